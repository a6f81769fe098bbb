import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// bcrypt password hashing (`[identity] password_hash_algorithm = bcrypt`, `password_hash_rounds`)
/// on a dedicated thread pool, so a slow hash never blocks the event loops or the database
/// threads: other requests keep being served while logins hash.
public final class PasswordHasher: Sendable {
    public let cost: Int
    let pool: NIOThreadPool

    public init(cost: Int, threads: Int = System.coreCount) {
        self.cost = cost
        self.pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await pool.runIfActive { Bcrypt.hash(password, cost: UInt8(cost)) }
    }

    /// Constant-time check against a stored `$2a$`/`$2b$`/`$2y$` hash.
    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await pool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
