import ArgumentParser
import Hummingbird
import Image
import Logging
import StratusAuth
import StratusCore
import StratusStorage

/// The Image service (glance v2): images, their data in the file store, members, import.
enum ImageModule: ServiceModule {
    static let project = "glance"
    static let daemon = "glance-api"
    static let serviceType = "image"
    static let serviceName = "glance"
    static let defaultPort = 9292
    static var options: [ConfigOption] { ImageOptions.all }
    static let databases = [DatabaseSlot(group: "database", name: "glance")]
    static let listenOptions: ListenOptions? = ListenOptions(group: "DEFAULT", host: "bind_host", port: "bind_port")
    static var tools: [any ParsableCommand.Type] { [GlanceManage.self] }
    static let stateDirectories = ["/var/lib/glance/images"]

    static func allInOneSettings(dataDir: String) -> [(String, String, String)] {
        [
            ("stratus", "sync_on_startup", "true"),
            ("glance_store", "filesystem_store_datadir", dataDir + "/images"),
            ("DEFAULT", "node_staging_uri", "file://" + dataDir + "/image-staging"),
            ("oslo_policy", "policy_file", dataDir + "/glance-policy.yaml"),
        ]
    }

    static func open(config: Config, validator: any TokenValidator, logger: Logger) async throws -> any RunningService {
        try await ImageService.open(config: config, validator: validator, migrate: config.bool("stratus", "sync_on_startup"), logger: logger)
    }
}

extension ImageService: RunningService {}
