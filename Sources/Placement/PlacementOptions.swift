import StratusAuth
import StratusCore
import StratusStorage

/// placement.conf options Stratus understands (names, groups and defaults as placement 16's).
public enum PlacementOptions {
    public static let all: [ConfigOption] =
        CommonOptions.all + OsloPolicyOptions.all + KeystoneAuthtokenOptions.all
        + DatabaseOptions.options(
            group: "placement_database",
            defaultConnection: nil,
            help: "The SQLAlchemy-style URL of the placement database (sqlite:///… or postgresql://…)."
        ) + [
            .bool("placement_database", "sync_on_startup", default: false, "Migrate the database when the API starts."),
            .choice("api", "auth_strategy", ["keystone", "noauth2"], default: "keystone", "keystone, or noauth2 for development."),
            .bool("placement", "randomize_allocation_candidates", default: false, "Shuffle allocation candidates before the limit."),
            .int("placement", "max_allocation_candidates", default: -1, min: -1, "Most candidates generated per request (-1: no limit)."),
            .choice(
                "placement",
                "allocation_candidates_generation_strategy",
                ["depth-first", "breadth-first"],
                default: "depth-first",
                "With max_allocation_candidates: fill from the first trees (depth-first) or round-robin over trees (breadth-first)."
            ),
            .int("placement", "allocation_conflict_retry_count", default: 10, min: 0, "Retries of an allocation write whose generation raced."),
            .string(
                "placement",
                "incomplete_consumer_project_id",
                default: "00000000-0000-0000-0000-000000000000",
                "Project of consumers created without one."
            ),
            .string(
                "placement",
                "incomplete_consumer_user_id",
                default: "00000000-0000-0000-0000-000000000000",
                "User of consumers created without one."
            ),
            .list("cors", "allowed_origin", "Origins allowed to make cross-site requests."),
            .bool("cors", "allow_credentials", default: true, "Whether credentials may be sent cross-site."),
            .list("cors", "expose_headers", default: "", "Headers cross-site responses expose."),
            .int("cors", "max_age", default: 3600, min: 0, "Seconds a preflight answer may be cached."),
            .list("cors", "allow_methods", default: "OPTIONS,GET,HEAD,POST,PUT,DELETE,TRACE,PATCH", "Methods allowed cross-site."),
            .list("cors", "allow_headers", default: "", "Headers allowed in cross-site requests."),
        ]
}

/// The settings placement reads once at start.
public struct PlacementSettings: Sendable {
    public enum AuthStrategy: String, Sendable { case keystone, noauth2 }
    public enum GenerationStrategy: String, Sendable {
        case depthFirst = "depth-first"
        case breadthFirst = "breadth-first"
    }

    public var authStrategy = AuthStrategy.keystone
    public var randomizeCandidates = false
    public var maxCandidates: Int? = nil
    public var generationStrategy = GenerationStrategy.depthFirst
    public var conflictRetries = 10
    public var incompleteProjectID = "00000000-0000-0000-0000-000000000000"
    public var incompleteUserID = "00000000-0000-0000-0000-000000000000"
    public var bodyLimit = 114_688
    public var cors = CORSSettings()
    /// Advertised in `WWW-Authenticate` on a 401 (`[keystone_authtoken] www_authenticate_uri`, else `auth_url`).
    public var authURI = "http://localhost:5000"
    /// `[keystone_authtoken] service_type`, this service's type by default (access rules name it).
    public var serviceType = "placement"

    public init() {}

    public init(config: Config) {
        authStrategy = AuthStrategy(rawValue: config.string("api", "auth_strategy") ?? "keystone") ?? .keystone
        randomizeCandidates = config.bool("placement", "randomize_allocation_candidates")
        let max = config.int("placement", "max_allocation_candidates") ?? -1
        maxCandidates = max > 0 ? max : nil
        generationStrategy =
            GenerationStrategy(rawValue: config.string("placement", "allocation_candidates_generation_strategy") ?? "") ?? .depthFirst
        conflictRetries = config.int("placement", "allocation_conflict_retry_count") ?? 10
        incompleteProjectID = config.string("placement", "incomplete_consumer_project_id") ?? incompleteProjectID
        incompleteUserID = config.string("placement", "incomplete_consumer_user_id") ?? incompleteUserID
        bodyLimit = config.int("oslo_middleware", "max_request_body_size") ?? 114_688
        cors = CORSSettings(config: config)
        authURI = config.string("keystone_authtoken", "www_authenticate_uri") ?? config.string("keystone_authtoken", "auth_url") ?? authURI
        serviceType = config.string("keystone_authtoken", "service_type") ?? serviceType
    }
}

/// oslo.middleware's `[cors]` settings.
public struct CORSSettings: Sendable {
    public var allowedOrigins: [String] = []
    public var allowCredentials = true
    public var exposeHeaders: [String] = []
    public var maxAge = 3600
    public var allowMethods = ["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "PATCH"]
    public var allowHeaders: [String] = []

    public init() {}

    public init(config: Config) {
        allowedOrigins = config.list("cors", "allowed_origin")
        allowCredentials = config.string("cors", "allow_credentials").flatMap(Config.parseBool) ?? true
        exposeHeaders = config.list("cors", "expose_headers")
        maxAge = config.int("cors", "max_age") ?? 3600
        let methods = config.list("cors", "allow_methods")
        if !methods.isEmpty { allowMethods = methods }
        allowHeaders = config.list("cors", "allow_headers")
    }
}
