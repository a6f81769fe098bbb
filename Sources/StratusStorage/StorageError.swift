import PostgresNIO
import SQLiteNIO

/// Driver errors translated into what a store can act on. SQLKit does not classify errors,
/// so both drivers' unique-constraint failures become one case.
public enum StorageError: Error, Sendable, Equatable {
    /// A unique constraint or primary key was violated (SQLSTATE 23505 / SQLITE_CONSTRAINT_UNIQUE).
    case uniqueViolation
    /// A foreign key was violated (SQLSTATE 23503 / SQLITE_CONSTRAINT_FOREIGNKEY).
    case foreignKeyViolation
    /// The database is busy or the transaction conflicted; the operation may be retried.
    case conflict

    /// Classifies a driver error; nil when it is none of the above.
    public static func classify(_ error: any Error) -> StorageError? {
        if let e = error as? StorageError { return e }
        if let e = error as? SQLiteError {
            switch e.reason {
            case .constraintUniqueFailed, .constraintPrimaryKeyFailed: return .uniqueViolation
            case .constraintForeignKeyFailed: return .foreignKeyViolation
            case .busy, .locked: return .conflict
            case .constraint where e.message.contains("UNIQUE"): return .uniqueViolation
            default: return nil
            }
        }
        if let e = error as? PSQLError, let state = e.serverInfo?[.sqlState] {
            switch state {
            case "23505": return .uniqueViolation
            case "23503": return .foreignKeyViolation
            case "40001", "40P01": return .conflict
            default: return nil
            }
        }
        return nil
    }
}
