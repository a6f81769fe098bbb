/// keystone's inexact list filters: `<attr>__contains`, `__icontains`, `__startswith`,
/// `__istartswith`, `__endswith`, `__iendswith` (the `i` forms ignore case). Stores turn each
/// into a SQL `LIKE` whose pattern escapes `%`, `_` and `\` in the value, so a value matches
/// literally (keystone passes them through as wildcards).
struct InexactFilter: Sendable, Equatable {
    enum Position: String, Sendable, CaseIterable { case contains, startswith, endswith }

    var attribute: String
    var position: Position
    var ignoreCase: Bool
    var value: String

    /// The filters on `attribute` among a request's query items, in a stable order.
    static func parse(_ query: [(String, String)], attribute: String = "name") -> [InexactFilter] {
        var out: [InexactFilter] = []
        for (key, value) in query {
            let prefix = attribute + "__"
            guard key.hasPrefix(prefix) else { continue }
            var op = String(key.dropFirst(prefix.count))
            let ignoreCase = op.hasPrefix("i") && Position(rawValue: String(op.dropFirst())) != nil
            if ignoreCase { op.removeFirst() }
            guard let position = Position(rawValue: op) else { continue }
            out.append(InexactFilter(attribute: attribute, position: position, ignoreCase: ignoreCase, value: value))
        }
        return out
    }

    /// The `LIKE` pattern (escape character `\`), lower-cased when case is ignored.
    var likePattern: String {
        var escaped = ""
        for c in ignoreCase ? value.lowercased() : value {
            if c == "%" || c == "_" || c == "\\" { escaped.append("\\") }
            escaped.append(c)
        }
        switch position {
        case .contains: return "%" + escaped + "%"
        case .startswith: return escaped + "%"
        case .endswith: return "%" + escaped
        }
    }
}
