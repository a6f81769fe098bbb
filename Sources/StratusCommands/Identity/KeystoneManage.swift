import ArgumentParser
import Foundation
import Identity
import Logging
import StratusCore
import StratusStorage

/// `keystone-manage`: the guide's keystone administration commands.
struct KeystoneManage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keystone-manage",
        abstract: "Keystone administration: database, keys, bootstrap.",
        subcommands: [
            DBSync.self, FernetSetup.self, FernetRotate.self, CredentialSetup.self, CredentialRotate.self, CredentialMigrate.self, Bootstrap.self,
        ]
    )

    /// `db_sync [--check]`: create or upgrade the schema; with `--check`, exit 2 when an upgrade is due.
    struct DBSync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "db_sync", abstract: "Create or upgrade the identity database schema.")
        @OptionGroup var config: ConfigArguments
        @Flag(name: .customLong("check"), help: "Only report whether an upgrade is needed.") var check = false

        func run() async throws {
            let conf = try IdentityModule.loadConfig(config, prog: "keystone-manage")
            let db = try await openDatabase(conf)
            if check {
                let (current, latest) = try await IdentityService.schemaVersion(db)
                await db.close()
                if current == latest {
                    print("Database is up to date at version \(latest).")
                    return
                }
                print("Database is at version \(current); db_sync would migrate it to \(latest).")
                throw ExitCode(2)
            }
            let (from, to) = try await IdentityService.migrate(db)
            print(from == to ? "Database is up to date at version \(to)." : "Database migrated from version \(from) to \(to).")
            await db.close()
        }
    }

    /// `--keystone-user` / `--keystone-group`: who owns a key repository.
    struct KeyOwnerArguments: ParsableArguments {
        @Option(name: .customLong("keystone-user"), help: "User to own the key repository.") var user: String?
        @Option(name: .customLong("keystone-group"), help: "Group to own the key repository.") var group: String?

        func owner() throws -> FileOwner? {
            guard user != nil || group != nil else { return nil }
            do { return try FileOwner(user: user ?? "keystone", group: group ?? user ?? "keystone") } catch {
                throw Terminal.fail("\(error)")
            }
        }
    }

    /// `fernet_setup`, `fernet_rotate`, `credential_setup`, `credential_rotate`: one command
    /// shape over the two key repositories.
    protocol KeyRepositoryCommand: AsyncParsableCommand {
        var config: ConfigArguments { get }
        var owner: KeyOwnerArguments { get }
        /// The config group naming the repository: `fernet_tokens` or `credential`.
        static var group: String { get }
        static var rotates: Bool { get }
    }

    /// `fernet_setup`: create the token key repository (idempotent).
    struct FernetSetup: KeyRepositoryCommand {
        static let configuration = CommandConfiguration(commandName: "fernet_setup", abstract: "Create the Fernet token key repository.")
        static let group = "fernet_tokens", rotates = false
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments
    }

    /// `fernet_rotate`: promote the staged key, add a new one, drop the oldest past `max_active_keys`.
    struct FernetRotate: KeyRepositoryCommand {
        static let configuration = CommandConfiguration(commandName: "fernet_rotate", abstract: "Rotate the Fernet token keys.")
        static let group = "fernet_tokens", rotates = true
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments
    }

    /// `credential_setup`: create the credential key repository (idempotent).
    struct CredentialSetup: KeyRepositoryCommand {
        static let configuration = CommandConfiguration(commandName: "credential_setup", abstract: "Create the credential encryption key repository.")
        static let group = "credential", rotates = false
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments
    }

    /// `credential_rotate`: rotate the credential keys (keystone keeps three).
    /// Refused, as keystone refuses it, while a credential is encrypted with another key than the
    /// primary: the rotation would delete the key that opens it.
    struct CredentialRotate: KeyRepositoryCommand {
        static let configuration = CommandConfiguration(commandName: "credential_rotate", abstract: "Rotate the credential encryption keys.")
        static let group = "credential", rotates = true
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments

        func run() async throws {
            let conf = try IdentityModule.loadConfig(config, prog: "keystone-manage")
            let path = conf.string("credential", "key_repository")!
            let db = try await openDatabase(conf)
            let behind: Int
            do { behind = try await CredentialKeyMaintenance.notOnPrimary(db: db, repository: FernetKeyRepository(path: path)) } catch {
                await db.close()
                throw Terminal.fail("\(error)")
            }
            await db.close()
            guard behind == 0 else { throw Terminal.fail(CredentialKeyMaintenance.notMigrated) }
            try rotateRepository(path, max: 3, owner: owner.owner())
        }
    }

    /// `credential_migrate`: re-encrypt every credential with the primary credential key.
    struct CredentialMigrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "credential_migrate",
            abstract: "Re-encrypt the credentials with the primary credential key."
        )
        @OptionGroup var config: ConfigArguments

        func run() async throws {
            let conf = try IdentityModule.loadConfig(config, prog: "keystone-manage")
            let db = try await openDatabase(conf)
            do {
                let n = try await CredentialKeyMaintenance.migrate(
                    db: db,
                    repository: FernetKeyRepository(path: conf.string("credential", "key_repository")!)
                )
                print("Re-encrypted \(n) credential\(n == 1 ? "" : "s") with the primary key.")
            } catch {
                await db.close()
                throw Terminal.fail("\(error)")
            }
            await db.close()
        }
    }

    /// `bootstrap`: the admin, roles, region, identity service and endpoints (`--bootstrap-*`).
    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "bootstrap", abstract: "Create the initial admin, roles, service and endpoints.")
        @OptionGroup var config: ConfigArguments
        @Option(name: .customLong("bootstrap-password")) var password: String?
        @Option(name: .customLong("bootstrap-username")) var username = "admin"
        @Option(name: .customLong("bootstrap-project-name")) var projectName = "admin"
        @Option(name: .customLong("bootstrap-role-name")) var roleName = "admin"
        @Option(name: .customLong("bootstrap-service-name")) var serviceName = "keystone"
        @Option(name: .customLong("bootstrap-admin-url")) var adminURL: String?
        @Option(name: .customLong("bootstrap-internal-url")) var internalURL: String?
        @Option(name: .customLong("bootstrap-public-url")) var publicURL: String?
        @Option(name: .customLong("bootstrap-region-id")) var regionID: String?

        func run() async throws {
            guard let pw = password ?? ProcessInfo.processInfo.environment["OS_BOOTSTRAP_PASSWORD"], !pw.isEmpty else {
                throw Terminal.fail("either --bootstrap-password argument or OS_BOOTSTRAP_PASSWORD must be set")
            }
            let conf = try IdentityModule.loadConfig(config, prog: "keystone-manage")
            let db = try await openDatabase(conf)
            let hasher = PasswordHasher(cost: conf.int("identity", "password_hash_rounds") ?? 12)
            var b = IdentityBootstrap(password: pw)
            b.username = username
            b.projectName = projectName
            b.roleName = roleName
            b.serviceName = serviceName
            b.adminURL = adminURL
            b.internalURL = internalURL
            b.publicURL = publicURL
            b.regionID = regionID
            do {
                _ = try await IdentityService.migrate(db)
                for line in try await b.run(db: db, hasher: hasher) { print(line) }
            } catch {
                await hasher.shutdown()
                await db.close()
                throw Terminal.fail("bootstrap failed: \(error)")
            }
            await hasher.shutdown()
            await db.close()
        }
    }
}

func openDatabase(_ conf: Config, group: String = "database") async throws -> Database {
    do {
        return try await DatabaseOptions.open(conf, group: group, logger: Logger(label: "stratus.manage"))
    } catch let e as ConfigError {
        throw Terminal.fail(e.message)
    }
}

extension KeystoneManage.KeyRepositoryCommand {
    func run() async throws {
        let conf = try IdentityModule.loadConfig(config, prog: "keystone-manage")
        let path = conf.string(Self.group, "key_repository")!
        if Self.rotates {
            // credential keys keep keystone's fixed three
            let max = Self.group == "fernet_tokens" ? conf.int("fernet_tokens", "max_active_keys") ?? 3 : 3
            try rotateRepository(path, max: max, owner: owner.owner())
        } else {
            try setupRepository(path, owner: owner.owner())
        }
    }
}

func setupRepository(_ path: String, owner: FileOwner?) throws {
    do {
        let repo = FernetKeyRepository(path: path)
        let had = (try? repo.keys().isEmpty) == false
        try repo.setup(owner: owner)
        print(had ? "Key repository \(path) already set up." : "Created key repository \(path).")
    } catch {
        throw Terminal.fail("\(error)")
    }
}

func rotateRepository(_ path: String, max: Int, owner: FileOwner?) throws {
    do {
        try FernetKeyRepository(path: path).rotate(maxActiveKeys: max, owner: owner)
        print("Rotated keys in \(path).")
    } catch {
        throw Terminal.fail("\(error)")
    }
}
