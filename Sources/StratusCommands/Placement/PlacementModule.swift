import ArgumentParser
import Hummingbird
import Logging
import Placement
import StratusAuth
import StratusCore
import StratusStorage

/// Placement: resource providers, inventories, allocations and allocation candidates.
enum PlacementModule: ServiceModule {
    static let project = "placement"
    static let daemon = "placement-api"
    static let serviceType = "placement"
    static let serviceName = "placement"
    static let defaultPort = 8778
    static var options: [ConfigOption] { PlacementOptions.all }
    static let databases = [DatabaseSlot(group: "placement_database", name: "placement")]
    static var tools: [any ParsableCommand.Type] { [PlacementManage.self, PlacementStatus.self] }

    static func allInOneSettings(dataDir: String) -> [(String, String, String)] {
        [("placement_database", "sync_on_startup", "true"), ("oslo_policy", "policy_file", dataDir + "/placement-policy.yaml")]
    }

    static func open(config: Config, validator: any TokenValidator, logger: Logger) async throws -> any RunningService {
        try await PlacementService.open(config: config, validator: validator, logger: logger)
    }
}

extension PlacementService: RunningService {}
