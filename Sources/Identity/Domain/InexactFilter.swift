/// keystone's inexact list filters: `<attr>__contains`, `__icontains`, `__startswith`,
/// `__istartswith`, `__endswith`, `__iendswith` (the `i` forms ignore case). Stores turn each
/// into a SQL `LIKE` whose pattern escapes `%`, `_` and the escape character `!` in the value,
/// so a value matches literally (keystone passes them through as wildcards). Case is folded by
/// the database on both sides (`LOWER`), so SQLite, which folds ASCII only, still matches a
/// name by its own spelling.
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

    /// The escape character of `likePattern` (not `\`: PostgreSQL reads that one differently
    /// when `standard_conforming_strings` is off).
    static let escape: Character = "!"

    /// The `LIKE` pattern, escaped with `escape`.
    var likePattern: String {
        var escaped = ""
        for c in value {
            if c == "%" || c == "_" || c == Self.escape { escaped.append(Self.escape) }
            escaped.append(c)
        }
        switch position {
        case .contains: return "%" + escaped + "%"
        case .startswith: return escaped + "%"
        case .endswith: return "%" + escaped
        }
    }
}
