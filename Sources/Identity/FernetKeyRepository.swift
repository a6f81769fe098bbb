import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A keystone key repository (`[fernet_tokens] key_repository`, `[credential] key_repository`):
/// files named by integers, `0` the staged key, the highest the primary, the rest secondary.
///
/// `setup` and `rotate` do what `keystone-manage fernet_setup` / `fernet_rotate` do, so a
/// repository can be shared with (or copied from) a keystone deployment.
public struct FernetKeyRepository: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    }

    /// Key files as (index, key), highest index first.
    public func indexedKeys() throws -> [(Int, FernetKey)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw KeyRepositoryError("key repository \(path) does not exist; run keystone-manage fernet_setup")
        }
        var keys: [(Int, FernetKey)] = []
        for name in names {
            guard let index = Int(name), index >= 0 else { continue }
            guard let text = try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8), let key = FernetKey(base64: text) else {
                throw KeyRepositoryError("key file \(path)/\(name) is unreadable or not a Fernet key")
            }
            keys.append((index, key))
        }
        return keys.sorted { $0.0 > $1.0 }
    }

    /// The keys, primary first; empty when the repository has none.
    public func keys() throws -> [FernetKey] { try indexedKeys().map(\.1) }

    /// Creates the repository with a primary and a staged key unless it already has keys.
    public func setup(owner: FileOwner?) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try owner?.apply(to: path)
        if (try indexedKeys()).isEmpty {
            try write(index: 0, key: .generate(), owner: owner)
            try rotate(maxActiveKeys: 3, owner: owner)
        }
    }

    /// Promotes the staged key to primary, stages a new key, and removes the oldest secondary
    /// keys beyond `maxActiveKeys`. Each file is written to a temporary name and renamed, so a
    /// crash never leaves a half-written key.
    public func rotate(maxActiveKeys: Int, owner: FileOwner?) throws {
        var keys = try indexedKeys()
        guard let staged = keys.first(where: { $0.0 == 0 }) else {
            throw KeyRepositoryError("key repository \(path) has no staged key (0); run keystone-manage fernet_setup")
        }
        let newPrimary = (keys.first?.0 ?? 0) + 1
        try write(index: newPrimary, key: staged.1, owner: owner)
        try write(index: 0, key: .generate(), owner: owner)
        keys = try indexedKeys()
        let secondaries = keys.filter { $0.0 != 0 }.map(\.0).sorted()
        let excess = keys.count - max(maxActiveKeys, 2)
        if excess > 0 {
            for index in secondaries.prefix(excess) { try FileManager.default.removeItem(atPath: "\(path)/\(index)") }
        }
    }

    func write(index: Int, key: FernetKey, owner: FileOwner?) throws {
        let tmp = "\(path)/.\(index).tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(key.base64.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KeyRepositoryError("cannot write key \(tmp)")
        }
        try owner?.apply(to: tmp)
        guard rename(tmp, "\(path)/\(index)") == 0 else { throw KeyRepositoryError("cannot write key \(path)/\(index)") }
    }
}

/// A key repository that cannot be read, created or rotated; the message names the path.
public struct KeyRepositoryError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// A user and group that key files are given to (`--keystone-user`, `--keystone-group`).
public struct FileOwner: Sendable {
    public let uid: uid_t
    public let gid: gid_t

    /// Looks the names up in the system databases.
    public init(user: String, group: String) throws {
        guard let pw = getpwnam(user) else { throw KeyRepositoryError("no such user: \(user)") }
        guard let gr = getgrnam(group) else { throw KeyRepositoryError("no such group: \(group)") }
        uid = pw.pointee.pw_uid
        gid = gr.pointee.gr_gid
    }

    func apply(to path: String) throws {
        guard chown(path, uid, gid) == 0 else { throw KeyRepositoryError("cannot chown \(path): errno \(errno)") }
    }
}

/// The keys in use by a running service: reloaded when the repository changes on disk (a
/// `fernet_rotate` takes effect without a restart), checked at most once a second.
public final class KeyRing: Sendable {
    /// The keys of a repository as read from disk, with the version they were read at.
    struct State {
        var keys: [FernetKey]
        var checkedAt: Date
        var stamp: String
        var version: Int
        /// Why the last reload failed (logged once per distinct reason).
        var failure: String?
    }
    let repository: FernetKeyRepository
    let state: Mutex<State>
    let logger: Logger?

    public init(repository: FernetKeyRepository, logger: Logger? = nil) throws {
        self.repository = repository
        self.logger = logger
        let keys = try repository.keys()
        guard !keys.isEmpty else { throw KeyRepositoryError("key repository \(repository.path) is empty; run keystone-manage fernet_setup") }
        state = Mutex(State(keys: keys, checkedAt: Date(), stamp: KeyRing.stamp(repository.path), version: 0))
    }

    static func stamp(_ path: String) -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path))?.filter { Int($0) != nil }.sorted() ?? []
        var st = stat()
        let mtime = stat(path, &st) == 0 ? "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : ""
        return mtime + ":" + names.joined(separator: ",")
    }

    /// Primary first.
    public var keys: [FernetKey] { current().keys }

    /// The keys and a version that changes whenever they do (so caches of what they
    /// validated can be dropped).
    public func current() -> (keys: [FernetKey], version: Int) {
        let now = Date()
        let (keys, version, due) = state.withLock { s in (s.keys, s.version, now.timeIntervalSince(s.checkedAt) >= 1) }
        guard due else { return (keys, version) }
        let stamp = KeyRing.stamp(repository.path)
        var failed: String?
        let current = state.withLock { s in
            s.checkedAt = now
            guard stamp != s.stamp else { return (s.keys, s.version) }
            // A repository that changed but cannot be read keeps the keys already loaded (tokens
            // keep validating) and is retried every second; the reason is logged, once.
            do {
                let fresh = try repository.keys()
                guard !fresh.isEmpty else { throw KeyRepositoryError("key repository \(repository.path) is empty") }
                s.keys = fresh
                s.stamp = stamp
                s.version += 1
                s.failure = nil
            } catch {
                let reason = String(describing: error)
                if s.failure != reason { failed = reason }
                s.failure = reason
            }
            return (s.keys, s.version)
        }
        if let failed { logger?.error("cannot reload the key repository, keeping the keys loaded before: \(failed)") }
        return current
    }

    public var primary: FernetKey { keys[0] }
}
