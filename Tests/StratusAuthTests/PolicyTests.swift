import Foundation
import StratusCore
import Testing

@testable import StratusAuth

@Suite("oslo.policy rules")
struct PolicyTests {
    func creds(roles: [String], project: String? = "p1", domain: String? = nil, system: Bool = false, user: String = "u1") -> [String: JSON] {
        [
            "roles": .array(roles.map(JSON.string)), "user_id": .string(user), "project_id": .optional(project),
            "domain_id": .optional(domain), "system_scope": system ? "all" : nil, "is_admin": false,
            "token": ["project": ["domain": ["id": "default"]]],
        ]
    }

    let defaults: [String: String] = [
        "admin_required": "role:admin or is_admin:1",
        "list_users": "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
        "get_project": "rule:admin_required or project_id:%(target.project.id)s",
        "managed": "'manager':%(target.role.name)s or 'member':%(target.role.name)s",
        "no_domain": "not domain_id:None",
        "global_role": "None:%(target.role.domain_id)s",
        "precedence": "role:a or role:b and role:c",
        "token_domain": "token.project.domain.id:%(target.domain.id)s",
        "open": "",
        "never": "!",
    ]

    @Test("parses not > and > or with parentheses")
    func precedence() throws {
        #expect(try PolicyRule(parsing: "role:a or role:b and role:c") == .or([.role("a"), .and([.role("b"), .role("c")])]))
        #expect(try PolicyRule(parsing: "(role:a or role:b) and not role:c") == .and([.or([.role("a"), .role("b")]), .not(.role("c"))]))
        #expect(try PolicyRule(parsing: "") == .always)
        #expect(throws: PolicyRule.ParseError.self) { try PolicyRule(parsing: "(role:a or") }
    }

    @Test("admin passes, member fails list_users; domain reader passes only for their domain")
    func listUsers() throws {
        let p = try PolicyEnforcer(defaults: defaults)
        #expect(p.allows("list_users", target: [:], credentials: creds(roles: ["admin", "member", "reader"])))
        #expect(!p.allows("list_users", target: [:], credentials: creds(roles: ["member", "reader"])))
        let domainReader = creds(roles: ["reader"], project: nil, domain: "d1")
        #expect(p.allows("list_users", target: ["target": ["domain_id": "d1"]], credentials: domainReader))
        #expect(!p.allows("list_users", target: ["target": ["domain_id": "d2"]], credentials: domainReader))
        #expect(!p.allows("list_users", target: [:], credentials: domainReader), "a missing target key fails the check")
        #expect(p.allows("list_users", target: [:], credentials: creds(roles: ["reader"], project: nil, system: true)))
    }

    @Test("target substitution, literals, None and dotted credential paths")
    func generic() throws {
        let p = try PolicyEnforcer(defaults: defaults)
        #expect(p.allows("get_project", target: ["target": ["project": ["id": "p1"]]], credentials: creds(roles: ["member"])))
        #expect(!p.allows("get_project", target: ["target": ["project": ["id": "p2"]]], credentials: creds(roles: ["member"])))
        #expect(p.allows("managed", target: ["target": ["role": ["name": "member"]]], credentials: [:]))
        #expect(!p.allows("managed", target: ["target": ["role": ["name": "admin"]]], credentials: [:]))
        #expect(!p.allows("no_domain", target: [:], credentials: creds(roles: [])))
        #expect(p.allows("no_domain", target: [:], credentials: creds(roles: [], domain: "d")))
        #expect(p.allows("global_role", target: ["target": ["role": ["domain_id": nil]]], credentials: [:]))
        #expect(!p.allows("global_role", target: ["target": ["role": ["domain_id": "d"]]], credentials: [:]))
        #expect(p.allows("token_domain", target: ["target": ["domain": ["id": "default"]]], credentials: creds(roles: [])))
        #expect(p.allows("open", target: [:], credentials: [:]))
        #expect(!p.allows("never", target: [:], credentials: creds(roles: ["admin"])))
        #expect(!p.allows("undefined", target: [:], credentials: creds(roles: ["admin"])))
    }

    @Test("a policy.yaml overrides defaults")
    func overrides() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml").path
        try """
        # generated sample
        "list_users": "role:member"
        get_project: "!"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let p = try PolicyEnforcer(defaults: defaults, policyFile: path)
        #expect(p.allows("list_users", target: [:], credentials: creds(roles: ["member"])))
        #expect(!p.allows("get_project", target: ["target": ["project": ["id": "p1"]]], credentials: creds(roles: ["admin"])))
    }
}

@Suite("oslo.policy scope types and deprecated rules")
struct PolicyScopeTests {
    let defaults = [
        PolicyDefault("admin_required", "role:admin or is_admin:1"),
        PolicyDefault("create_domain", "rule:admin_required", scopes: [.system, .project]),
        PolicyDefault("list_things", "role:reader and system_scope:all", scopes: [.system, .domain, .project], deprecated: "role:member"),
        PolicyDefault("unscoped_ok", ""),
    ]

    func creds(_ roles: [String], project: String? = nil, domain: String? = nil, system: Bool = false) -> [String: JSON] {
        [
            "roles": .array(roles.map(JSON.string)), "project_id": .optional(project), "domain_id": .optional(domain),
            "system_scope": system ? "all" : nil,
        ]
    }

    @Test("a token's scope: system_scope, else domain_id, else project (unscoped counts as project)")
    func classification() {
        #expect(PolicyDefault.scope(of: creds([], system: true)) == .system)
        #expect(PolicyDefault.scope(of: creds([], domain: "d")) == .domain)
        #expect(PolicyDefault.scope(of: creds([], project: "p")) == .project)
        #expect(PolicyDefault.scope(of: creds([])) == .project)
        #expect(PolicyDefault.scope(of: creds([], domain: "")) == .project, "an empty domain_id is not a domain scope")
    }

    @Test("a domain-scoped admin is refused by a rule whose scope_types exclude domain; project and system admins pass")
    func scopeRefusal() throws {
        let p = try PolicyEnforcer(defaults: defaults)
        #expect(!p.allows("create_domain", target: [:], credentials: creds(["admin"], domain: "d1")))
        #expect(p.allows("create_domain", target: [:], credentials: creds(["admin"], project: "p1")))
        #expect(p.allows("create_domain", target: [:], credentials: creds(["admin"], system: true)))
        #expect(p.allows("unscoped_ok", target: [:], credentials: creds([], domain: "d1")), "no scope_types: any scope")
    }

    @Test("enforce_new_defaults = false also accepts the deprecated check string; true does not")
    func deprecated() throws {
        let member = creds(["member"], project: "p1")
        #expect(!(try PolicyEnforcer(defaults: defaults)).allows("list_things", target: [:], credentials: member))
        let legacy = try PolicyEnforcer(defaults: defaults, enforceNewDefaults: false)
        #expect(legacy.allows("list_things", target: [:], credentials: member))
        #expect(legacy.allows("list_things", target: [:], credentials: creds(["reader"], system: true)))
        #expect(!legacy.allows("list_things", target: [:], credentials: creds(["reader"], project: "p1")))
    }

    @Test("a policy file's override wins over the deprecated fallback, but scope types still apply")
    func overrideBeatsDeprecated() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml").path
        try "\"list_things\": \"role:auditor\"\n\"create_domain\": \"@\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let p = try PolicyEnforcer(defaults: defaults, policyFile: path, enforceNewDefaults: false)
        #expect(!p.allows("list_things", target: [:], credentials: creds(["member"], project: "p1")))
        #expect(p.allows("list_things", target: [:], credentials: creds(["auditor"], project: "p1")))
        #expect(!p.allows("create_domain", target: [:], credentials: creds([], domain: "d1")), "scope is checked before the rule")
    }
}

/// neutron's `field:` checks.
@Suite struct FieldCheckTests {
    let enforcer = try! PolicyEnforcer(defaults: [
        "shared": "field:networks:shared=True",
        "device": "field:port:device_owner=~^network:",
        "get": "rule:shared or project_id:%(project_id)s",
    ])

    @Test func fieldChecksReadTheTarget() {
        let creds: [String: JSON] = ["project_id": "p1", "roles": []]
        #expect(enforcer.allows("shared", target: ["shared": true], credentials: creds))
        #expect(!enforcer.allows("shared", target: ["shared": false], credentials: creds))
        #expect(!enforcer.allows("shared", target: [:], credentials: creds))
        #expect(enforcer.allows("device", target: ["device_owner": "network:dhcp"], credentials: creds))
        #expect(!enforcer.allows("device", target: ["device_owner": "compute:nova"], credentials: creds))
        #expect(enforcer.allows("get", target: ["shared": false, "project_id": "p1"], credentials: creds))
        #expect(!enforcer.allows("get", target: ["shared": false, "project_id": "p2"], credentials: creds))
    }
}

/// Deciding without the target where the rule allows it (lists decide once per request).
@Suite struct DecisionWithoutTargetTests {
    let enforcer = try! PolicyEnforcer(defaults: [
        "admin_only": "role:admin",
        "get": "(rule:admin_only) or (role:reader and project_id:%(project_id)s)",
        "shared": "field:networks:shared=True",
        "guarded": "not rule:shared and role:member",
    ])

    @Test func knownOnlyWhenNoCheckNeedsTheTarget() {
        let admin: [String: JSON] = ["project_id": "p", "roles": ["admin"]]
        let reader: [String: JSON] = ["project_id": "p", "roles": ["reader"]]
        let nobody: [String: JSON] = ["project_id": "p", "roles": []]
        #expect(enforcer.decisionWithoutTarget("get", credentials: admin) == true)
        #expect(enforcer.decisionWithoutTarget("get", credentials: reader) == nil)
        #expect(enforcer.decisionWithoutTarget("get", credentials: nobody) == false)
        #expect(enforcer.decisionWithoutTarget("guarded", credentials: reader) == false)
        #expect(enforcer.decisionWithoutTarget("guarded", credentials: ["roles": ["member"]]) == nil)
        #expect(enforcer.decisionWithoutTarget("missing", credentials: admin) == false)
    }
}

@Suite("policy substitutions and role names")
struct SubstitutionTests {
    @Test("%(key)s is replaced from the target, anywhere in the match, any number of times")
    func substitutes() {
        let target = ["target.a": "x", "b": "ÿé", "empty": ""]
        #expect(PolicyEnforcer.substitute("%(target.a)s", target) == "x")
        #expect(PolicyEnforcer.substitute("pre-%(target.a)s-%(b)s-post", target) == "pre-x-ÿé-post")
        #expect(PolicyEnforcer.substitute("%(empty)s%(target.a)s", target) == "x")
        #expect(PolicyEnforcer.substitute("plain", target) == "plain")
        #expect(PolicyEnforcer.substitute("100%", target) == "100%")
        // A combining mark right after ")s" or before "%(" makes the byte index no Character
        // boundary: the text around the substitution must survive byte for byte.
        let combining = "\u{301}"
        #expect(PolicyEnforcer.substitute("%(target.a)s\(combining)z", target)?.unicodeScalars.elementsEqual("x\(combining)z".unicodeScalars) == true)
        #expect(PolicyEnforcer.substitute("e\(combining)%(target.a)s", target)?.unicodeScalars.elementsEqual("e\(combining)x".unicodeScalars) == true)
    }

    @Test("a missing key or an unterminated substitution fails the check")
    func missing() {
        #expect(PolicyEnforcer.substitute("%(nope)s", ["a": "x"]) == nil)
        #expect(PolicyEnforcer.substitute("%(a)", ["a": "x"]) == nil)
        #expect(PolicyEnforcer.substitute("%(a", ["a": "x"]) == nil)
    }

    @Test("role names match ignoring case, ASCII and not")
    func roleCase() throws {
        #expect(PolicyEnforcer.equalIgnoringCase("Admin", "admin"))
        #expect(PolicyEnforcer.equalIgnoringCase("READER", "reader"))
        #expect(!PolicyEnforcer.equalIgnoringCase("reader", "readers"))
        #expect(!PolicyEnforcer.equalIgnoringCase("admin[", "admin{"))
        #expect(PolicyEnforcer.equalIgnoringCase("Ärzte", "ärzte"))
        let p = try PolicyEnforcer(defaults: ["r": "role:Member"])
        #expect(p.allows("r", target: [:], credentials: ["roles": ["member"]]))
        #expect(!p.allows("r", target: [:], credentials: ["roles": ["members", 1]]))
    }
}
