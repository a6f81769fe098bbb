import ArgumentParser
import Foundation
import Image
import StratusCore
import StratusStorage

/// `glance-manage`: the guide's `db_sync`, and `db sync` / `db version` / `db_version`.
/// With no `--config-file` it reads `glance-api.conf` and then `glance-manage.conf`, as glance's does.
struct GlanceManage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glance-manage",
        abstract: "Glance administration: the database.",
        subcommands: [DBSync.self, DBVersion.self, DB.self]
    )

    static func loadConfig(_ arguments: ConfigArguments) throws -> Config {
        var arguments = arguments
        if arguments.configFiles.isEmpty, arguments.configDirs.isEmpty {
            for prog in ["glance-api", "glance-manage"] {
                let found = Config.defaultFiles(project: "glance", prog: prog)
                arguments.configFiles += found.files.filter { !arguments.configFiles.contains($0) }
                arguments.configDirs += found.dirs.filter { !arguments.configDirs.contains($0) }
            }
        }
        return try ConfigArguments.load(
            project: "glance",
            prog: "glance-manage",
            files: arguments.configFiles,
            dirs: arguments.configDirs,
            options: ImageModule.options,
            overrides: [],
            searchDefaultFiles: false
        )
    }

    static func sync(_ config: ConfigArguments) async throws {
        let conf = try loadConfig(config)
        let db = try await openDatabase(conf, group: "database")
        do {
            let (from, to) = try await ImageService.migrate(db)
            if from == to {
                print("Database is up to date. No migrations needed.")
            } else {
                print("Upgraded database to: \(to), current revision(s): \(to)")
                print("Database is synced successfully.")
            }
        } catch {
            await db.close()
            throw Terminal.fail("db sync failed: \(error)")
        }
        await db.close()
    }

    static func version(_ config: ConfigArguments) async throws {
        let conf = try loadConfig(config)
        let db = try await openDatabase(conf, group: "database")
        let version = try? await ImageService.schemaVersion(db)
        await db.close()
        guard let (current, _) = version else { throw Terminal.fail("cannot read the glance database's schema version") }
        print(current == 0 ? "None" : String(current))
    }

    struct DBSync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "db_sync", abstract: "Create or upgrade the glance database schema.")
        @OptionGroup var config: ConfigArguments
        func run() async throws { try await GlanceManage.sync(config) }
    }

    struct DBVersion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "db_version", abstract: "Print the database schema version.")
        @OptionGroup var config: ConfigArguments
        func run() async throws { try await GlanceManage.version(config) }
    }

    struct DB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "Database commands.",
            subcommands: [Sync.self, Version.self]
        )

        struct Sync: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "sync", abstract: "Create or upgrade the glance database schema.")
            @OptionGroup var config: ConfigArguments
            func run() async throws { try await GlanceManage.sync(config) }
        }

        struct Version: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the database schema version.")
            @OptionGroup var config: ConfigArguments
            func run() async throws { try await GlanceManage.version(config) }
        }
    }
}
