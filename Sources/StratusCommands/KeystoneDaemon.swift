import ArgumentParser
import Hummingbird
import Identity
import Logging
import ServiceLifecycle
import StratusCore

/// `stratus keystone`: the Identity API daemon (the guide's httpd + mod_wsgi keystone).
struct KeystoneDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keystone", abstract: "Serve the Identity v3 API (port 5000).")
    @OptionGroup var config: ConfigArguments
    @Option(name: .customLong("bind"), help: "HOST:PORT to listen on (default 0.0.0.0:5000).") var bind = "0.0.0.0:5000"

    func run() async throws {
        let address = try BindAddress(bind, defaultPort: 5000)
        let conf = try config.load(project: "keystone", options: IdentityOptions.all)
        Logs.setUp(debug: conf.bool("DEFAULT", "debug"))
        let logger = Logger(label: "stratus.identity")
        let identity: IdentityService
        do { identity = try await IdentityService.open(config: conf, logger: logger) } catch let e as ExitCode { throw e } catch {
            throw Terminal.fail("cannot start keystone: \(error)")
        }
        let app = Application(router: identity.router(logger: Logger(label: "stratus.identity.api")),
                              configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
                              onServerRunning: { _ in logger.info("identity listening on \(address.host):\(address.port)") },
                              logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await identity.close()
    }
}

/// `HOST:PORT`, `HOST` or `:PORT`.
struct BindAddress {
    var host: String
    var port: Int

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

import Foundation
