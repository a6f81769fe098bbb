import ArgumentParser
import Foundation
import Placement
import StratusCore
import StratusStorage

/// `placement-manage`: the guide's `db sync`, plus `db version` and `db online_data_migrations`
/// that deployment tools call.
struct PlacementManage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement-manage",
        abstract: "Placement administration: the database.",
        subcommands: [DB.self]
    )

    struct DB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "Database commands.",
            subcommands: [Sync.self, Version.self, OnlineDataMigrations.self]
        )
    }

    /// `db sync`: create or upgrade the schema (prints nothing, as placement's).
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sync", abstract: "Create or upgrade the placement database schema.")
        @OptionGroup var config: ConfigArguments

        func run() async throws {
            let conf = try PlacementModule.loadConfig(config, prog: "placement-manage")
            let db = try await openDatabase(conf, group: "placement_database")
            do { _ = try await PlacementService.migrate(db) } catch {
                await db.close()
                throw Terminal.fail("db sync failed: \(error)")
            }
            await db.close()
        }
    }

    /// `db version`: the schema version (`None` for an empty database).
    struct Version: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the database schema version.")
        @OptionGroup var config: ConfigArguments

        func run() async throws {
            let conf = try PlacementModule.loadConfig(config, prog: "placement-manage")
            let db = try await openDatabase(conf, group: "placement_database")
            let version = try? await PlacementService.schemaVersion(db)
            await db.close()
            guard let (current, _) = version else { throw Terminal.fail("cannot read the placement database's schema version") }
            print(current == 0 ? "None" : String(current))
        }
    }

    /// `db online_data_migrations [--max-count N]`: placement's two data migrations have nothing to
    /// do on a Stratus schema (roots and consumers are always written whole); the table says so.
    struct OnlineDataMigrations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "online_data_migrations",
            abstract: "Run the online data migrations (none are pending on a Stratus schema)."
        )
        @OptionGroup var config: ConfigArguments
        @Option(name: .customLong("max-count"), help: "Most rows to migrate per batch.") var maxCount: String?

        func run() async throws {
            if let maxCount, (Int(maxCount) ?? 0) < 1 {
                print("Must supply a positive value for max_count")
                throw ExitCode(127)
            }
            let conf = try PlacementModule.loadConfig(config, prog: "placement-manage")
            let db = try await openDatabase(conf, group: "placement_database")
            let version = try? await PlacementService.schemaVersion(db)
            await db.close()
            guard version != nil else { throw Terminal.fail("cannot read the placement database's schema version") }
            if maxCount == nil { print("Running batches of 50 until complete") }
            print(
                """
                +-----------------------------+-------------+-----------+
                |          Migration          | Total Found | Completed |
                +-----------------------------+-------------+-----------+
                |    set_root_provider_ids    |      0      |     0     |
                | create_incomplete_consumers |      0      |     0     |
                +-----------------------------+-------------+-----------+
                """
            )
        }
    }
}

/// `placement-status upgrade check`: oslo.upgradecheck's table and exit codes (0 success,
/// 1 warning, 2 failure).
struct PlacementStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement-status",
        abstract: "Placement upgrade readiness checks.",
        subcommands: [Upgrade.self]
    )

    struct Upgrade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "upgrade", subcommands: [Check.self])
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Check that the deployment is ready to run this release.")
        @OptionGroup var config: ConfigArguments
        @Flag(name: .customLong("json"), help: "Accepted; the table is printed (as placement does).") var json = false

        func run() async throws {
            let conf = try PlacementModule.loadConfig(config, prog: "placement-status")
            var results: [UpgradeCheck.Result] = []
            do {
                let db = try await openDatabase(conf, group: "placement_database")
                let version = try? await PlacementService.schemaVersion(db)
                await db.close()
                guard let (current, latest) = version else { throw Terminal.fail("cannot read the placement database's schema version") }
                let schema: UpgradeCheck.Result =
                    current == latest
                    ? .init(name: "Database Schema Version", code: .success, details: nil)
                    : .init(
                        name: "Database Schema Version",
                        code: .failure,
                        details: "The placement database is at version \(current), not \(latest). Run \"placement-manage db sync\"."
                    )
                results.append(schema)
            }
            results.append(.init(name: "Missing Root Provider IDs", code: .success, details: nil))
            results.append(.init(name: "Incomplete Consumers", code: .success, details: nil))
            results.append(policyCheck(conf))
            print(UpgradeCheck.table(results))
            throw ExitCode(Int32(results.map(\.code.rawValue).max() ?? 0))
        }

        /// "Policy File JSON to YAML Migration": a JSON policy file fails, as in placement.
        func policyCheck(_ conf: Config) -> UpgradeCheck.Result {
            let name = "Policy File JSON to YAML Migration"
            var file = conf.string("oslo_policy", "policy_file") ?? "policy.yaml"
            if !file.hasPrefix("/") { file = ((conf.files.last.map { ($0 as NSString).deletingLastPathComponent }) ?? "/etc/placement") + "/" + file }
            guard file.hasSuffix(".json"), FileManager.default.fileExists(atPath: file) else {
                return .init(name: name, code: .success, details: nil)
            }
            return .init(
                name: name,
                code: .failure,
                details:
                    "Your policy file is JSON-formatted which is deprecated. You need to switch to YAML-formatted file. Use the ``oslopolicy-convert-json-to-yaml`` tool to convert the existing JSON-formatted files to YAML in a backwards-compatible manner: https://docs.openstack.org/oslo.policy/latest/cli/oslopolicy-convert-json-to-yaml.html."
            )
        }
    }
}

/// oslo.upgradecheck's result table.
enum UpgradeCheck {
    enum Code: Int {
        case success = 0
        case warning = 1
        case failure = 2
    }

    struct Result {
        var name: String
        var code: Code
        var details: String?
    }

    /// One column "Upgrade Check Results", a rule after every row, details wrapped at 60 columns.
    static func table(_ results: [Result]) -> String {
        var cells: [[String]] = []
        for r in results {
            var lines = ["Check: \(r.name)", "Result: \(["Success", "Warning", "Failure"][r.code.rawValue])"]
            // oslo.upgradecheck wraps the details text at 60, then prefixes it.
            let details = wrap(r.details ?? "None", width: 60)
            lines.append("Details: " + details[0])
            lines += details.dropFirst().map { "  " + $0 }
            cells.append(lines)
        }
        let width = (cells.flatMap { $0 } + ["Upgrade Check Results"]).map(\.count).max()! + 2
        let rule = "+" + String(repeating: "-", count: width) + "+"
        func row(_ s: String) -> String { "| " + s + String(repeating: " ", count: width - 1 - s.count) + "|" }
        var out = [rule, row("Upgrade Check Results"), rule]
        for c in cells {
            out += c.map(row)
            out.append(rule)
        }
        return out.joined(separator: "\n")
    }

    /// Python's textwrap.wrap: words packed into lines of at most `width` characters.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.isEmpty ? [""] : lines
    }
}
