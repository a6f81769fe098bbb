import ArgumentParser
import Foundation
import Networking
import StratusCore
import StratusStorage

/// `neutron-db-manage`: the guide's `upgrade head` and `current`, reading the files given with
/// `--config-file` (neutron.conf and plugin.ini), or `/etc/neutron/neutron.conf` by default.
struct NeutronDBManage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neutron-db-manage",
        abstract: "Neutron database management.",
        subcommands: [Upgrade.self, Current.self]
    )

    static func open(_ arguments: ConfigArguments) async throws -> Database {
        let conf = try NetworkModule.loadConfig(arguments, prog: "neutron-db-manage")
        return try await openDatabase(conf, group: "database")
    }

    struct Upgrade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "upgrade", abstract: "Upgrade the schema (to head).")
        @OptionGroup var config: ConfigArguments
        @Argument(help: "The revision: head (heads and +N are accepted as head).") var revision: String = "head"

        func run() async throws {
            guard ["head", "heads"].contains(revision) || revision.hasPrefix("+") else {
                throw Terminal.fail("neutron-db-manage upgrade: only head is supported (got \(revision))")
            }
            let db = try await NeutronDBManage.open(config)
            do {
                print("  Running upgrade for neutron ...")
                let (from, to) = try await NetworkService.migrate(db)
                print(
                    from == to
                        ? "INFO  [alembic.runtime.migration] Database is current."
                        : "INFO  [alembic.runtime.migration] Running upgrade \(from) -> \(to)"
                )
                print("  OK")
            } catch {
                await db.close()
                throw Terminal.fail("upgrade failed: \(error)")
            }
            await db.close()
        }
    }

    struct Current: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "current", abstract: "Print the schema version.")
        @OptionGroup var config: ConfigArguments

        func run() async throws {
            let db = try await NeutronDBManage.open(config)
            let version = try? await NetworkService.schemaVersion(db)
            await db.close()
            guard let (current, latest) = version else { throw Terminal.fail("cannot read the neutron database's schema version") }
            print("  Running current for neutron ...")
            print(current == 0 ? "(none)" : "\(current)\(current == latest ? " (head)" : "")")
            print("  OK")
        }
    }
}
