import ArgumentParser
import Compute
import Foundation
import Logging
import ServiceLifecycle
import StratusAuth
import StratusCore

/// A nova worker role run as its own daemon.
protocol NovaRole {
    static var name: String { get }
    static var role: String { get }
    /// Whether the role reads the databases (the compute agent does not).
    static var usesDatabase: Bool { get }
}

enum ConductorRole: NovaRole {
    static let name = "nova-conductor"
    static let role = "conductor"
    static let usesDatabase = true
}

enum SchedulerRole: NovaRole {
    static let name = "nova-scheduler"
    static let role = "scheduler"
    static let usesDatabase = true
}

enum ComputeRole: NovaRole {
    static let name = "nova-compute"
    static let role = "compute"
    static let usesDatabase = false
}

/// `stratus nova-conductor`, `nova-scheduler`, `nova-compute`: nova.conf (`/etc/nova/nova.conf`
/// by default), then the role until SIGTERM. The conductor and the scheduler take their tasks
/// from the API database; nova-compute reaches nova-api through the catalog.
struct NovaWorkerDaemon<Role: NovaRole>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: Role.name, abstract: "Run \(Role.name).") }

    @OptionGroup var config: ConfigArguments

    func run() async throws {
        let conf = try ComputeModule.loadConfig(config, prog: Role.name)
        Logs.setUp(debug: conf.bool("DEFAULT", "debug"))
        let logger = Logger(label: "stratus.\(Role.name)")
        if conf.isSet("DEFAULT", "transport_url") {
            Terminal.warn("[DEFAULT] transport_url: no message broker is needed; Stratus passes work through the database")
        }
        let work: Task<Void, Never>
        var service: ComputeService? = nil
        if Role.usesDatabase {
            let opened: ComputeService
            do {
                opened = try await ComputeService.open(config: conf, validator: KeystoneTokenValidator(settings: .init(config: conf)), logger: logger)
            } catch {
                throw Terminal.fail("cannot start \(Role.name): \(error)")
            }
            opened.startWorkers([Role.role], config: conf)
            service = opened
            work = Task {}
        } else {
            do { try ComputeSettings.checkDriver(conf) } catch let e as ConfigError { throw Terminal.fail(e.message) }
            let agent = try ComputeAgent(config: conf, logger: logger)
            work = Task { await agent.run() }
        }
        logger.info("\(Role.name) running")
        let group = ServiceGroup(configuration: .init(services: [UntilSignal()], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        work.cancel()
        if let service { await service.close() }
        LogBuffer.shared.flush()
    }
}

/// A service that does nothing until shutdown (the daemon's work runs in tasks beside it).
struct UntilSignal: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
