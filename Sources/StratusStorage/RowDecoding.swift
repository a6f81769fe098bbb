import SQLKit
import Synchronization

extension SQLRow {
    /// The whole row as `T`: snake_case columns fill camelCase properties. A column that is
    /// missing or has the wrong type throws (never a silent `""` or `false`); optional
    /// properties take SQL NULL. Booleans read from SQLite's 0/1 as well as PostgreSQL's bool.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decode(model: T.self, keyDecodingStrategy: ColumnNames.strategy)
    }
}

/// Property name → column name, as SQLKit's `convertFromSnakeCase` derives it (`projectId` →
/// `project_id`, `myURLField` → `my_uRL_field`), worked out once per name: SQLKit converts
/// every key of every row anew, through Unicode property lookups, which cost a few percent of
/// a server boot's CPU.
public enum ColumnNames {
    /// A column name as a coding key.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static let known = Mutex<[String: String]>([:])

    static let strategy = SQLRowDecoder.KeyDecodingStrategy.custom { path in
        Key(stringValue: column(for: path.last?.stringValue ?? ""))
    }

    /// The column for a property name.
    public static func column(for property: String) -> String {
        if let hit = known.withLock({ $0[property] }) { return hit }
        let name = snakeCase(property)
        known.withLock { $0[property] = name }
        return name
    }

    /// SQLKit's word split, kept exactly (names decoded before this cache must not change): a
    /// word starts at each capital after the first character; in a run of capitals followed by
    /// a lower-case letter, the last capital starts the next word; each word's first character
    /// is lower-cased and the words are joined with `_` (`domainID` → `domain_iD`, which both
    /// engines match to `domain_id`).
    static func snakeCase(_ s: String) -> String {
        let c = Array(s)
        guard !c.isEmpty else { return s }
        var words: [Range<Int>] = []
        var start = 0
        var search = 1
        while let upper = c[min(search, c.count)...].firstIndex(where: \.isUppercase) {
            words.append(start..<upper)
            start = upper
            guard let lower = c[upper...].firstIndex(where: \.isLowercase) else { break }
            search = lower
            if lower != upper + 1 {
                words.append(upper..<(lower - 1))
                start = lower - 1
            }
        }
        words.append(start..<c.count)
        return words.map { r in
            guard let first = r.first else { return "" }
            return c[first].lowercased() + String(c[(first + 1)..<r.upperBound])
        }.joined(separator: "_")
    }
}
