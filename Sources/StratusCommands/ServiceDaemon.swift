import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StratusAuth
import StratusCore

/// A service's API daemon (`stratus keystone`, `stratus glance-api`, …): reads the service's
/// config, opens it and serves its API until SIGTERM/SIGINT. Callers' tokens are validated
/// with the `[keystone_authtoken]` service user, as keystonemiddleware does.
struct ServiceDaemon<Module: ServiceModule>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Module.daemon,
            abstract: "Serve the \(Module.serviceType) API (port \(Module.defaultPort))."
        )
    }

    @OptionGroup var config: ConfigArguments
    @Option(name: .customLong("bind"), help: "HOST:PORT to listen on (default: the service's listen options, else 0.0.0.0:<port>).")
    var bind: String?

    func run() async throws {
        let conf = try Module.loadConfig(config)
        let address = try listenAddress(conf)
        Logs.setUp(debug: conf.bool("DEFAULT", "debug"))
        let logger = Logger(label: "stratus.\(Module.serviceType)")
        let validator = KeystoneTokenValidator(settings: .init(config: conf))
        let service: any RunningService
        do { service = try await Module.open(config: conf, validator: validator, logger: logger) } catch let e as ExitCode { throw e } catch {
            throw Terminal.fail("cannot start \(Module.daemon): \(error)")
        }
        let app = Application(
            router: service.router(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { _ in logger.info("\(Module.serviceType) listening on \(address.host):\(address.port)") },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await service.close()
        LogBuffer.shared.flush()
    }

    /// `--bind`, else the service's own listen options, else 0.0.0.0 and the guide's port.
    func listenAddress(_ conf: Config) throws -> BindAddress {
        if let bind { return try BindAddress(bind, defaultPort: Module.defaultPort) }
        guard let listen = Module.listenOptions else { return BindAddress(host: "0.0.0.0", port: Module.defaultPort) }
        return BindAddress(
            host: conf.string(listen.group, listen.host) ?? "0.0.0.0",
            port: conf.int(listen.group, listen.port) ?? Module.defaultPort
        )
    }
}

/// `HOST:PORT`, `HOST` or `:PORT`.
struct BindAddress {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(_ text: String, defaultPort: Int) throws {
        if let colon = text.lastIndex(of: ":"), !text.hasSuffix("]") {
            let h = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]), (0...65535).contains(p) else {
                throw Terminal.fail("--bind \(text): the port must be a number from 0 to 65535")
            }
            host = h.isEmpty ? "0.0.0.0" : h.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            port = p
        } else {
            host = text
            port = defaultPort
        }
    }
}
