import ArgumentParser
import Hummingbird
import Identity
import Logging
import StratusAuth
import StratusCore
import StratusStorage

/// Identity (keystone): the first module, and the one every other service validates tokens with.
enum IdentityModule: ServiceModule {
    static let project = "keystone"
    static let daemon = "keystone"
    static let serviceType = "identity"
    static let serviceName = "keystone"
    static let defaultPort = 5000
    static let endpointPath = "/v3"
    static var options: [ConfigOption] { IdentityOptions.all }
    static let databases = [DatabaseSlot(group: "database", name: "keystone")]
    static var tools: [any ParsableCommand.Type] { [KeystoneManage.self] }

    static func allInOneSettings(dataDir: String) -> [(String, String, String)] {
        [
            ("fernet_tokens", "key_repository", dataDir + "/fernet-keys"),
            ("credential", "key_repository", dataDir + "/credential-keys"),
            ("oslo_policy", "policy_file", dataDir + "/policy.yaml"),
        ]
    }

    static func open(config: Config, validator: any TokenValidator, logger: Logger) async throws -> any RunningService {
        try await IdentityService.open(config: config, logger: logger)
    }
}

extension IdentityService: RunningService {
    public func router() -> Router<StratusContext> { router(logger: Logger(label: "stratus.identity.api")) }
}
