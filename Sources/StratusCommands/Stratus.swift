import ArgumentParser
import Identity
import StratusCore

/// The `stratus` command: the guide's tools and daemons as subcommands.
public struct Stratus: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stratus",
        abstract: "An OpenStack-compatible cloud: Identity, Image, Placement, Compute and Networking in one binary.",
        subcommands: [AllInOne.self, KeystoneDaemon.self, KeystoneManage.self, ConfigSample.self])

    public init() {}

    /// Entry point: dispatches on the invoked name (`keystone-manage` → `stratus keystone-manage`).
    public static func main(arguments: [String]) async {
        let invoked = (arguments.first ?? "stratus").split(separator: "/").last.map(String.init) ?? "stratus"
        var args = Array(arguments.dropFirst())
        let tools = ["keystone-manage", "keystone"]
        if tools.contains(invoked) { args.insert(invoked, at: 0) }
        if args.first == "keystone-manage" { args = hoistConfigOptions(args) }
        await main(args)
    }
}

/// `stratus config-sample keystone`: every option with help and default (oslo's genconfig).
struct ConfigSample: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config-sample", abstract: "Print a sample configuration file.")
    @Argument(help: "Service: keystone.") var service: String

    func run() throws {
        switch service {
        case "keystone": print(Config.sample(IdentityOptions.all), terminator: "")
        default: throw Terminal.fail("unknown service \(service); known: keystone")
        }
    }
}
