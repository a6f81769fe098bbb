import Foundation
import StratusCore

/// One default rule of a service's policy, as the service registers it with oslo.policy
/// (`policy.DocumentedRuleDefault`): the name, the check string, the token scopes the operation
/// accepts, and the check string it replaced (honoured while `enforce_new_defaults = false`).
public struct PolicyDefault: Sendable {
    /// A token's scope as oslo.policy classifies it: `system` when the credentials carry
    /// `system_scope`, `domain` when they carry `domain_id`, else `project` (unscoped included).
    public enum Scope: String, Sendable, Hashable {
        case system, domain, project
    }

    public let name: String
    public let check: String
    /// Empty means the rule accepts any scope (oslo.policy skips the scope check).
    public let scopes: Set<Scope>
    /// The deprecated check string, or nil when the rule never changed.
    public let deprecated: String?

    public init(_ name: String, _ check: String, scopes: Set<Scope> = [], deprecated: String? = nil) {
        self.name = name
        self.check = check
        self.scopes = scopes
        self.deprecated = deprecated
    }

    /// The scope oslo.policy assigns to `credentials` (`_enforce_scope`).
    public static func scope(of credentials: [String: JSON]) -> Scope {
        if let system = credentials["system_scope"], system.isTruthy { return .system }
        if let domain = credentials["domain_id"], domain.isTruthy { return .domain }
        return .project
    }
}

extension JSON {
    /// Python truthiness, as `if creds.get(key):` reads a value.
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        }
    }
}

/// `[oslo_policy]`, the same for every service.
public enum OsloPolicyOptions {
    public static let all: [ConfigOption] = [
        .string(
            "oslo_policy",
            "policy_file",
            default: "policy.yaml",
            "Policy overrides (oslo.policy syntax), relative to the config file's directory."
        ),
        .bool("oslo_policy", "enforce_scope", default: true, "Accepted; as oslo.policy 6, scope is always enforced."),
        .bool(
            "oslo_policy",
            "enforce_new_defaults",
            default: true,
            "false: a rule whose default changed also accepts its deprecated check string (unless policy_file overrides it)."
        ),
    ]
}

extension PolicyEnforcer {
    /// The enforcer a service's config describes: its defaults, `[oslo_policy] policy_file` (relative
    /// to the directory of the last config file read, else `defaultDirectory`) and `enforce_new_defaults`.
    public init(defaults: [PolicyDefault], config: Config, defaultDirectory: String) throws {
        var policyFile = config.string("oslo_policy", "policy_file") ?? "policy.yaml"
        if !policyFile.hasPrefix("/") {
            let dir = config.files.last.map { ($0 as NSString).deletingLastPathComponent } ?? defaultDirectory
            policyFile = "\(dir)/\(policyFile)"
        }
        let enforceNew = config.string("oslo_policy", "enforce_new_defaults").flatMap(Config.parseBool) ?? true
        try self.init(defaults: defaults, policyFile: policyFile, enforceNewDefaults: enforceNew)
    }
}
