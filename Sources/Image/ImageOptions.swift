import Foundation
import StratusAuth
import StratusCore
import StratusStorage

/// glance-api.conf options Stratus understands (names, groups and defaults as glance 33's).
public enum ImageOptions {
    public static let all: [ConfigOption] =
        CommonOptions.all + OsloPolicyOptions.all + KeystoneAuthtokenOptions.all
        + DatabaseOptions.options(
            group: "database",
            defaultConnection: nil,
            help: "The SQLAlchemy-style URL of the glance database (sqlite:///… or postgresql://…)."
        ) + [
            .string("DEFAULT", "bind_host", default: "0.0.0.0", "Address the API listens on."),
            .int("DEFAULT", "bind_port", default: 9292, min: 0, max: 65535, "Port the API listens on."),
            .ignored("DEFAULT", "workers", "accepted; Stratus serves the API from one process with an event loop per core"),
            .string("DEFAULT", "public_endpoint", "The URL advertised in version documents (default: the request's own)."),
            .int("DEFAULT", "image_size_cap", default: 1_099_511_627_776, min: 0, "Largest image, in bytes (1 TiB)."),
            .string("DEFAULT", "user_storage_quota", default: "0", "Image data a project may keep (0: unlimited; B, KB, MB, GB, TB)."),
            .bool("DEFAULT", "show_image_direct_url", default: false, "Show the data's location as `direct_url`."),
            .bool("DEFAULT", "show_multiple_locations", default: false, "Show `locations` (deprecated in glance)."),
            .list("DEFAULT", "enabled_import_methods", default: "glance-direct,web-download,copy-image", "Interoperable import methods."),
            .string("DEFAULT", "node_staging_uri", default: "file:///tmp/staging/", "Where `glance-direct` stages data."),
            .int("DEFAULT", "api_limit_max", default: 1000, min: 1, "Most items a list returns."),
            .int("DEFAULT", "limit_param_default", default: 25, min: 1, "Items a list returns without `limit`."),
            .int("DEFAULT", "image_property_quota", default: 128, min: -1, "Most properties per image (-1: unlimited)."),
            .int("DEFAULT", "image_tag_quota", default: 128, min: -1, "Most tags per image (-1: unlimited)."),
            .int("DEFAULT", "image_member_quota", default: 128, min: -1, "Most members per image (-1: unlimited)."),
            .string("DEFAULT", "hashing_algorithm", default: "sha512", "The `os_hash_algo` of new data (Stratus computes sha512)."),
            .string("DEFAULT", "image_cache_dir", "The image cache (not served by Stratus yet: set, it is refused)."),
            .string("DEFAULT", "enabled_backends", "Multiple stores (not served by Stratus yet: set, it is refused)."),
            .string("DEFAULT", "transport_url", "Accepted; Stratus needs no message broker."),
            .choice("paste_deploy", "flavor", ["keystone", ""], default: "keystone", "keystone, or empty for no authentication (development)."),
            .string("paste_deploy", "config_file", "Accepted; Stratus has no paste pipeline."),
            .list("glance_store", "stores", default: "file,http", "Enabled stores (`file`; `http` is read-only and accepted)."),
            .string("glance_store", "default_store", default: "file", "Where new data goes (`file`)."),
            .string("glance_store", "filesystem_store_datadir", default: "/var/lib/glance/images/", "The file store's directory."),
            .list("image_format", "disk_formats", default: "ami,ari,aki,vhd,vhdx,vmdk,raw,qcow2,vdi,iso,ploop", "Allowed disk formats."),
            .list("image_format", "container_formats", default: "ami,ari,aki,bare,ovf,ova,docker,compressed", "Allowed container formats."),
            .bool("image_format", "require_image_format_match", default: true, "Refuse data whose format differs from `disk_format`."),
            .list("image_format", "vmdk_allowed_types", default: "streamOptimized,monolithicSparse", "VMDK subformats accepted."),
            .bool("stratus", "sync_on_startup", default: false, "Migrate the database when the API starts (all-in-one sets it)."),
            .int(
                "stratus",
                "upload_lease_seconds",
                default: 30,
                min: 2,
                "An upload whose process gave no sign of life for this long is abandoned: its image returns to queued (Stratus)."
            ),
        ]
}

/// The settings glance-api reads once at start.
public struct ImageSettings: Sendable {
    public var authenticated = true
    public var publicEndpoint: String?
    public var imageSizeCap: Int64 = 1_099_511_627_776
    public var userStorageQuota: Int64 = 0
    public var showDirectURL = false
    public var showLocations = false
    public var importMethods = ["glance-direct"]
    public var stagingDirectory = "/tmp/staging"
    public var maxLimit = 1000
    public var defaultLimit = 25
    public var propertyQuota = 128
    public var tagQuota = 128
    public var memberQuota = 128
    public var storeDirectory = "/var/lib/glance/images"
    public var diskFormats = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
    public var containerFormats = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
    public var requireFormatMatch = true
    public var vmdkAllowedTypes = ["streamOptimized", "monolithicSparse"]
    public var leaseSeconds: Int64 = 30
    /// Advertised in `WWW-Authenticate` on a 401.
    public var authURI = "http://localhost:5000"
    /// `[keystone_authtoken] service_type`, this service's type by default (access rules name it).
    public var serviceType = "image"

    /// The import methods Stratus serves; glance's others are dropped from the configured list.
    public static let servedImportMethods: Set<String> = ["glance-direct"]

    public init() {}

    public init(config: Config) throws {
        authenticated = (config.string("paste_deploy", "flavor") ?? "keystone") == "keystone"
        publicEndpoint = config.string("DEFAULT", "public_endpoint")
        imageSizeCap = Int64(config.int("DEFAULT", "image_size_cap") ?? 1_099_511_627_776)
        let quota = config.string("DEFAULT", "user_storage_quota") ?? "0"
        guard let q = ByteSize.parse(quota) else {
            throw ConfigError(message: "\(config.origin("DEFAULT", "user_storage_quota")): '\(quota)' is not a size (e.g. 0, 500MB, 10GB)")
        }
        userStorageQuota = q
        showDirectURL = config.bool("DEFAULT", "show_image_direct_url")
        showLocations = config.bool("DEFAULT", "show_multiple_locations")
        importMethods = config.list("DEFAULT", "enabled_import_methods").filter { ImageSettings.servedImportMethods.contains($0) }
        let staging = config.string("DEFAULT", "node_staging_uri") ?? "file:///tmp/staging/"
        guard staging.hasPrefix("file://") else {
            throw ConfigError(message: "\(config.origin("DEFAULT", "node_staging_uri")): only file:// staging is supported")
        }
        stagingDirectory = ImageSettings.trimSlash(String(staging.dropFirst("file://".count)))
        maxLimit = config.int("DEFAULT", "api_limit_max") ?? 1000
        defaultLimit = config.int("DEFAULT", "limit_param_default") ?? 25
        propertyQuota = config.int("DEFAULT", "image_property_quota") ?? 128
        tagQuota = config.int("DEFAULT", "image_tag_quota") ?? 128
        memberQuota = config.int("DEFAULT", "image_member_quota") ?? 128
        storeDirectory = ImageSettings.trimSlash(config.string("glance_store", "filesystem_store_datadir") ?? "/var/lib/glance/images/")
        let stores = config.list("glance_store", "stores")
        if !stores.isEmpty, !stores.contains("file") {
            throw ConfigError(message: "\(config.origin("glance_store", "stores")): Stratus stores image data in the `file` store; add it")
        }
        if let store = config.string("glance_store", "default_store"), store != "file" {
            throw ConfigError(message: "\(config.origin("glance_store", "default_store")): only `file` is supported")
        }
        if let algorithm = config.string("DEFAULT", "hashing_algorithm"), algorithm != "sha512" {
            throw ConfigError(
                message:
                    "\(config.origin("DEFAULT", "hashing_algorithm")): Stratus computes sha512 (glance's default); '\(algorithm)' is not supported"
            )
        }
        if config.list("image_format", "vmdk_allowed_types") != ["streamOptimized", "monolithicSparse"] {
            throw ConfigError(
                message: "\(config.origin("image_format", "vmdk_allowed_types")): Stratus accepts glance's default VMDK subformats only"
            )
        }
        for option in ["image_cache_dir", "enabled_backends"] where config.isSet("DEFAULT", option) {
            throw ConfigError(message: "\(config.origin("DEFAULT", option)): not supported by Stratus yet; remove it")
        }
        diskFormats = config.list("image_format", "disk_formats")
        containerFormats = config.list("image_format", "container_formats")
        requireFormatMatch = config.string("image_format", "require_image_format_match").flatMap(Config.parseBool) ?? true
        vmdkAllowedTypes = config.list("image_format", "vmdk_allowed_types")
        leaseSeconds = Int64(config.int("stratus", "upload_lease_seconds") ?? 30)
        authURI = config.string("keystone_authtoken", "www_authenticate_uri") ?? config.string("keystone_authtoken", "auth_url") ?? authURI
        serviceType = config.string("keystone_authtoken", "service_type") ?? serviceType
    }

    static func trimSlash(_ path: String) -> String {
        var p = path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        return p
    }
}

/// glance's size strings (`user_storage_quota`): a number with an optional B, KB, MB, GB or TB
/// suffix, in powers of 1024.
enum ByteSize {
    static func parse(_ text: String) -> Int64? {
        let s = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int64)] = [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            guard let n = Int64(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
            return n.multipliedReportingOverflow(by: factor).overflow ? nil : n * factor
        }
        guard let n = Int64(s), n >= 0 else { return nil }
        return n
    }
}
