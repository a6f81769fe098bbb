import Crypto
import Foundation
import StratusCore
import StratusStorage

/// `keystone-manage credential_rotate` / `credential_migrate` on the database side: a rotation
/// drops the oldest secondary key, so it is refused while any credential is still encrypted with
/// a key other than the primary (as keystone refuses it); `credential_migrate` re-encrypts every
/// credential with the primary key first.
public enum CredentialKeyMaintenance {
    /// keystone's `key_hash`: SHA-256 (hex) of the key's base64 text.
    static func hash(_ key: FernetKey) -> String {
        SHA256.hash(data: Data(key.base64.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// keystone's refusal, word for word.
    public static let notMigrated =
        "Unable to rotate credential keys because not all credentials are encrypted with the primary key. Please make sure all credentials have been encrypted with the primary key using `keystone-manage credential_migrate`."

    /// How many credentials are not encrypted with `repository`'s primary key.
    public static func notOnPrimary(db: Database, repository: FernetKeyRepository) async throws -> Int {
        guard let primary = try repository.keys().first else { return 0 }
        let hash = hash(primary)
        return try await db.read { sql in try await CredentialStore().sealed(in: sql) }.filter { $0.keyHash != hash }.count
    }

    /// Re-encrypts every credential not on the primary key with it, in one transaction; returns
    /// how many changed. A blob no key of the repository opens stops it with an error naming the
    /// credential (nothing is written then).
    public static func migrate(db: Database, repository: FernetKeyRepository) async throws -> Int {
        let keys = try repository.keys()
        guard let primary = keys.first else { throw KeyRepositoryError("key repository \(repository.path) is empty") }
        let primaryHash = hash(primary)
        let store = CredentialStore()
        return try await db.write { sql in
            var changed = 0
            for credential in try await store.sealed(in: sql) where credential.keyHash != primaryHash {
                guard let (plain, _) = try? Fernet.decrypt(credential.encryptedBlob, keys: keys) else {
                    throw KeyRepositoryError("credential \(credential.id) cannot be decrypted with any key of \(repository.path)")
                }
                try await store.reseal(credential.id, encryptedBlob: try Fernet.encrypt(plain, key: primary), keyHash: primaryHash, in: sql)
                changed += 1
            }
            return changed
        }
    }
}
