import ArgumentParser
import Compute
import Foundation
import Logging
import StratusCore
import StratusStorage

/// `nova-manage`: the guide's `api_db sync`, `db sync`, `db online_data_migrations` and
/// `cell_v2 map_cell0 | create_cell | list_cells | discover_hosts | list_hosts`.
struct NovaManage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nova-manage",
        abstract: "Nova database and cells management.",
        subcommands: [APIDB.self, DB.self, CellV2.self]
    )

    static let logger = Logger(label: "stratus.nova-manage")

    static func config(_ arguments: ConfigArguments) throws -> Config { try ComputeModule.loadConfig(arguments, prog: "nova-manage") }

    static func api(_ conf: Config) async throws -> Database {
        let url = try DatabaseOptions.url(conf, group: "api_database")
        try await Database.createIfMissing(url, logger: logger)
        return try await DatabaseOptions.open(conf, group: "api_database", logger: logger)
    }

    struct APIDB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "api_db", subcommands: [Sync.self])
        struct Sync: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "sync", abstract: "Migrate the API database.")
            @OptionGroup var config: ConfigArguments
            func run() async throws {
                let conf = try NovaManage.config(config)
                let db = try await NovaManage.api(conf)
                do { _ = try await ComputeService.migrateAPI(db) } catch {
                    await db.close()
                    throw Terminal.fail("api_db sync failed: \(error)")
                }
                await db.close()
            }
        }
    }

    struct DB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "db", subcommands: [Sync.self, OnlineDataMigrations.self])
        struct Sync: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "sync", abstract: "Migrate cell0 and every cell database.")
            @OptionGroup var config: ConfigArguments
            func run() async throws {
                let conf = try NovaManage.config(config)
                let api = try await NovaManage.api(conf)
                defer { Task { await api.close() } }
                var urls = try await ComputeCells.cells(api).map(\.connection)
                if let own = conf.string("database", "connection"), !urls.contains(own) { urls.append(own) }
                for url in urls {
                    do { _ = try await ComputeCells.syncCell(url, logger: NovaManage.logger) } catch {
                        throw Terminal.fail("db sync failed for \(DatabaseURL.redacted(url)): \(error)")
                    }
                }
            }
        }
        struct OnlineDataMigrations: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "online_data_migrations",
                abstract: "Run online data migrations (none pending)."
            )
            @OptionGroup var config: ConfigArguments
            func run() async throws {
                _ = try NovaManage.config(config)
                print("Running batches of 50 until complete")
                print("+---------------------------------------------+--------------+-----------+")
                print("|                  Migration                  | Total Needed | Completed |")
                print("+---------------------------------------------+--------------+-----------+")
                print("+---------------------------------------------+--------------+-----------+")
            }
        }
    }

    struct CellV2: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cell_v2",
            subcommands: [MapCell0.self, CreateCell.self, ListCells.self, DiscoverHosts.self, ListHosts.self]
        )

        struct MapCell0: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "map_cell0",
                abstract: "Map cell0 (its URL derived from [database] connection)."
            )
            @OptionGroup var config: ConfigArguments
            @Option(name: .customLong("database_connection")) var connection: String?
            func run() async throws {
                let conf = try NovaManage.config(config)
                guard let base = connection ?? conf.string("database", "connection") else { throw Terminal.fail("[database] connection is not set") }
                let url = try connection ?? ComputeCells.cell0URL(base)
                let api = try await NovaManage.api(conf)
                defer { Task { await api.close() } }
                if try await !ComputeCells.mapCell0(api, connection: url) { print("Cell0 is already setup") }
            }
        }

        struct CreateCell: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "create_cell", abstract: "Create a cell mapping.")
            @OptionGroup var config: ConfigArguments
            @Option(name: .customLong("name")) var name: String?
            @Option(name: .customLong("transport-url")) var transportURL: String?
            @Option(name: .customLong("database_connection")) var connection: String?
            @Flag(name: .customLong("verbose")) var verbose = false
            func run() async throws {
                let conf = try NovaManage.config(config)
                guard let url = connection ?? conf.string("database", "connection") else {
                    throw Terminal.fail("Must specify --database_connection if [database]/connection is not set in the configuration file.")
                }
                guard let transport = transportURL ?? conf.string("DEFAULT", "transport_url") else {
                    throw Terminal.fail("Must specify --transport-url if [DEFAULT]/transport_url is not set in the configuration file.")
                }
                let api = try await NovaManage.api(conf)
                defer { Task { await api.close() } }
                guard let cell = try await ComputeCells.createCell(api, name: name, transportURL: transport, connection: url) else {
                    print(
                        "The specified transport_url and/or database_connection combination already exists for another cell with uuid "
                            + ((try await ComputeCells.cells(api).first { $0.connection == url }?.uuid) ?? "") + "."
                    )
                    throw ExitCode(2)
                }
                if verbose { print(cell.uuid) }
            }
        }

        struct ListCells: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list_cells", abstract: "List cell mappings.")
            @OptionGroup var config: ConfigArguments
            @Flag(name: .customLong("verbose")) var verbose = false
            func run() async throws {
                let conf = try NovaManage.config(config)
                let api = try await NovaManage.api(conf)
                defer { Task { await api.close() } }
                let rows = try await ComputeCells.cells(api).sorted { ($0.name ?? "") < ($1.name ?? "") }.map { c in
                    [
                        c.name ?? "", c.uuid, verbose ? c.transportURL : Masking.url(c.transportURL),
                        verbose ? c.connection : Masking.url(c.connection), c.disabled ? "True" : "False",
                    ]
                }
                print(Table.render(["Name", "UUID", "Transport URL", "Database Connection", "Disabled"], rows))
            }
        }

        struct DiscoverHosts: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "discover_hosts", abstract: "Map new compute hosts to their cells.")
            @OptionGroup var config: ConfigArguments
            @Flag(name: .customLong("verbose")) var verbose = false
            func run() async throws {
                let conf = try NovaManage.config(config)
                let api = try await NovaManage.api(conf)
                defer { Task { await api.close() } }
                let cells = try await ComputeCells.cells(api)
                let mapped = try await ComputeCells.discoverHosts(api, logger: NovaManage.logger)
                guard verbose else { return }
                print("Found \(cells.count) cell mappings.")
                for c in cells where c.uuid == ComputeCells.cell0UUID { print("Skipping cell0 since it does not contain hosts.") }
                for c in cells where c.uuid != ComputeCells.cell0UUID {
                    print("Getting computes from cell '\(c.name ?? "")': \(c.uuid)")
                    let hosts = mapped.filter { $0.cell == c.uuid }
                    for h in hosts {
                        print("Checking host mapping for compute host '\(h.host)': \(h.node)")
                        print("Creating host mapping for compute host '\(h.host)': \(h.node)")
                    }
                    print("Found \(hosts.count) unmapped computes in cell: \(c.uuid)")
                }
            }
        }

        struct ListHosts: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list_hosts", abstract: "List host mappings.")
            @OptionGroup var config: ConfigArguments
            func run() async throws {
                let conf = try NovaManage.config(config)
                let api = try await NovaManage.api(conf)
                defer { Task { await api.close() } }
                let rows = try await ComputeCells.hosts(api).map { [$0.cellName, $0.cellUUID, $0.host] }
                print(Table.render(["Cell Name", "Cell UUID", "Hostname"], rows))
            }
        }
    }
}

/// nova-manage's masking of secrets in URLs (`****` for the password).
enum Masking {
    static func url(_ text: String) -> String {
        // Python's urlunparse drops an empty authority: nova shows cell0's `none:///` as `none:/`.
        if text.hasSuffix(":///") { return String(text.dropLast(2)) }
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", range: scheme.upperBound..<text.endIndex) else { return text }
        let userinfo = text[scheme.upperBound..<at.lowerBound]
        guard let colon = userinfo.firstIndex(of: ":") else { return text }
        return String(text[..<scheme.upperBound]) + userinfo[..<colon] + ":****" + text[at.lowerBound...]
    }
}

/// A prettytable as the OpenStack tools print them.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        let line = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+"
        // prettytable's centring: odd leftovers go right of odd-length text, left of even-length text.
        func centered(_ text: String, _ width: Int) -> String {
            let excess = width - text.count
            var left = excess / 2
            var right = excess / 2
            if excess % 2 == 1 { if text.count % 2 == 1 { right += 1 } else { left += 1 } }
            return String(repeating: " ", count: left) + text + String(repeating: " ", count: right)
        }
        func row(_ cells: [String]) -> String {
            "|"
                + cells.enumerated().map { " " + centered($0.element, widths[$0.offset]) + " " }.joined(separator: "|") + "|"
        }
        return ([line, row(header), line] + rows.map(row) + [line]).joined(separator: "\n")
    }
}

/// `nova-status upgrade check`: nova 34's checks in its table.
struct NovaStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nova-status", abstract: "Nova upgrade checks.", subcommands: [Upgrade.self])

    struct Upgrade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "upgrade", subcommands: [Check.self])
        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "check", abstract: "Run the upgrade checks.")
            @OptionGroup var config: ConfigArguments
            func run() async throws {
                let conf = try ComputeModule.loadConfig(config, prog: "nova-status")
                let api = try await NovaManage.api(conf)
                defer { Task { await api.close() } }
                let cells = try await ComputeCells.cells(api)
                let hasCell0 = cells.contains { $0.uuid == ComputeCells.cell0UUID }
                var results: [UpgradeCheck.Result] = []
                results.append(
                    !hasCell0 || cells.count < 2
                        ? .init(
                            name: "Cells v2",
                            code: .failure,
                            details: "No cell mappings found. Run command 'nova-manage cell_v2 simple_cell_setup' and then retry."
                        )
                        : .init(name: "Cells v2", code: .success)
                )
                for name in ["Placement API", "Cinder API", "Policy File JSON to YAML Migration", "Older than N-1 computes", "hw_machine_type unset"]
                {
                    results.append(.init(name: name, code: .success))
                }
                results.append(
                    conf.bool("service_user", "send_service_user_token")
                        ? .init(name: "Service User Token Configuration", code: .success)
                        : .init(
                            name: "Service User Token Configuration",
                            code: .failure,
                            details:
                                "Service user token configuration is required for all Nova services. For more details see the following: https://docs.openstack.org/nova/latest/admin/configuration/service-user-token.html"
                        )
                )
                print(UpgradeCheck.table(results))
                if results.contains(where: { $0.code == .failure }) { throw ExitCode(2) }
            }
        }
    }
}
