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
        subcommands: [DBSync.self, FernetSetup.self, FernetRotate.self, CredentialSetup.self, CredentialRotate.self, Bootstrap.self])

    struct DBSync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "db_sync", abstract: "Create or upgrade the identity database schema.")
        @OptionGroup var config: ConfigArguments
        @Flag(name: .customLong("check"), help: "Only report whether an upgrade is needed.") var check = false

        func run() async throws {
            let conf = try config.load(project: "keystone", options: IdentityOptions.all)
            let db = try await openDatabase(conf)
            if check {
                let (current, latest) = try await IdentityService.schemaVersion(db)
                await db.close()
                if current == latest { print("Database is up to date at version \(latest).") ; return }
                print("Database is at version \(current); db_sync would migrate it to \(latest).")
                throw ExitCode(2)
            }
            let (from, to) = try await IdentityService.migrate(db)
            print(from == to ? "Database is up to date at version \(to)." : "Database migrated from version \(from) to \(to).")
            await db.close()
        }
    }

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

    struct FernetSetup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fernet_setup", abstract: "Create the Fernet token key repository.")
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments
        func run() async throws {
            let conf = try config.load(project: "keystone", options: IdentityOptions.all)
            try setupRepository(conf.string("fernet_tokens", "key_repository")!, owner: owner.owner())
        }
    }

    struct FernetRotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fernet_rotate", abstract: "Rotate the Fernet token keys.")
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments
        func run() async throws {
            let conf = try config.load(project: "keystone", options: IdentityOptions.all)
            try rotateRepository(conf.string("fernet_tokens", "key_repository")!, max: conf.int("fernet_tokens", "max_active_keys") ?? 3, owner: owner.owner())
        }
    }

    struct CredentialSetup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "credential_setup", abstract: "Create the credential encryption key repository.")
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments
        func run() async throws {
            let conf = try config.load(project: "keystone", options: IdentityOptions.all)
            try setupRepository(conf.string("credential", "key_repository")!, owner: owner.owner())
        }
    }

    struct CredentialRotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "credential_rotate", abstract: "Rotate the credential encryption keys.")
        @OptionGroup var config: ConfigArguments
        @OptionGroup var owner: KeyOwnerArguments
        func run() async throws {
            let conf = try config.load(project: "keystone", options: IdentityOptions.all)
            try rotateRepository(conf.string("credential", "key_repository")!, max: 3, owner: owner.owner())
        }
    }

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
            let conf = try config.load(project: "keystone", options: IdentityOptions.all)
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

func openDatabase(_ conf: Config) async throws -> Database {
    do {
        let url = try DatabaseURL(conf.string("database", "connection") ?? "")
        return try await Database.open(url)
    } catch let e as ConfigError {
        throw Terminal.fail("\(conf.origin("database", "connection")): \(e.message)")
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
