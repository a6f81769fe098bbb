import ArgumentParser
import StratusCore

/// The `stratus` command: the guide's tools and daemons as subcommands, from every registered module.
public struct Stratus: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stratus",
        abstract: "An OpenStack-compatible cloud: Identity, Image, Placement, Compute and Networking in one binary.",
        subcommands: [AllInOne.self, ConfigSample.self, Modules.self]
            + ServiceModules.all.flatMap { module in [module.daemonCommand] + module.tools }
    )

    public init() {}

    /// Entry point: dispatches on the invoked name (`keystone-manage` → `stratus keystone-manage`)
    /// and lets oslo's `--config-file`/`--config-dir` come before a tool's verb.
    public static func main(arguments: [String]) async {
        let invoked = (arguments.first ?? "stratus").split(separator: "/").last.map(String.init) ?? "stratus"
        var args = Array(arguments.dropFirst())
        let programs = Set(ServiceModules.all.flatMap { $0.programNames })
        if programs.contains(invoked) { args.insert(invoked, at: 0) }
        let tools = Set(ServiceModules.all.flatMap { $0.tools.map { $0._commandName } })
        if let first = args.first, tools.contains(first) { args = [first] + hoistConfigOptions(Array(args.dropFirst())) }
        await main(args)
    }
}

extension ServiceModule {
    /// The daemon subcommand of this module.
    static var daemonCommand: any ParsableCommand.Type { ServiceDaemon<Self>.self }
}

/// `stratus config-sample <service>`: every option with help and default (oslo's genconfig).
struct ConfigSample: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config-sample", abstract: "Print a sample configuration file.")
    @Argument(help: "Service: a project (keystone), daemon or service type (identity).") var service: String

    func run() throws {
        guard let module = ServiceModules.named(service) else {
            throw Terminal.fail("unknown service \(service); known: \(ServiceModules.all.map { $0.project }.joined(separator: ", "))")
        }
        print(Config.sample(module.options), terminator: "")
    }
}

/// `stratus modules`: one line per service for scripts (`make install`, the e2e framework):
/// `<project> <service-type> <port> <program names…>`; with `--directories`, one line per state
/// directory a service needs beside `/var/lib/<project>`: `<project> <path>`.
struct Modules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modules",
        abstract: "List the registered services (for install scripts).",
        shouldDisplay: false
    )

    @Flag(name: .customLong("directories"), help: "List the state directories instead.") var directories = false

    func run() {
        for m in ServiceModules.all {
            if directories {
                for dir in m.stateDirectories { print("\(m.project) \(dir)") }
            } else {
                print(([m.project, m.serviceType, String(m.defaultPort)] + m.programNames).joined(separator: " "))
            }
        }
    }
}
