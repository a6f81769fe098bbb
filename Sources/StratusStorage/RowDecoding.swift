import SQLKit

extension SQLRow {
    /// The whole row as `T`: snake_case columns fill camelCase properties. A column that is
    /// missing or has the wrong type throws (never a silent `""` or `false`); optional
    /// properties take SQL NULL. Booleans read from SQLite's 0/1 as well as PostgreSQL's bool.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decode(model: T.self, keyDecodingStrategy: .convertFromSnakeCase)
    }
}
