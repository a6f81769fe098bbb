import Foundation
import StratusCore

/// oslo.policy's enforcer: a table of named rules (defaults overridden by a `policy.yaml` or
/// `policy.json`) evaluated against the caller's credentials and a target.
///
/// As oslo.policy 6: a token whose scope is not in the enforced rule's `scope_types` is refused
/// before the check string is read (always: 6.0 has no `enforce_scope` switch), and with
/// `[oslo_policy] enforce_new_defaults = false` a default that has a deprecated check string
/// accepts either (unless the policy file overrides that rule, which then applies as written).
public struct PolicyEnforcer: Sendable {
    public private(set) var rules: [String: PolicyRule]
    /// Scope types of the registered defaults, by rule name.
    public private(set) var scopes: [String: Set<PolicyDefault.Scope>]

    /// Builds from a service's registered defaults, then applies the overrides in `policyFile`
    /// when it exists.
    public init(defaults: [PolicyDefault], policyFile: String? = nil, enforceNewDefaults: Bool = true) throws {
        var rules: [String: PolicyRule] = [:]
        var scopes: [String: Set<PolicyDefault.Scope>] = [:]
        var overridden: Set<String> = []
        if let policyFile, FileManager.default.fileExists(atPath: policyFile) {
            for (name, text) in try PolicyEnforcer.readOverrides(policyFile) {
                do { rules[name] = try PolicyRule(parsing: text) } catch {
                    throw ConfigError(file: policyFile, message: error.description)
                }
                overridden.insert(name)
            }
        }
        for rule in defaults {
            if !rule.scopes.isEmpty { scopes[rule.name] = rule.scopes }
            guard !overridden.contains(rule.name) else { continue }
            var check = rule.check
            if !enforceNewDefaults, let deprecated = rule.deprecated, deprecated != rule.check {
                check = "(\(rule.check.isEmpty ? "@" : rule.check)) or (\(deprecated.isEmpty ? "@" : deprecated))"
            }
            rules[rule.name] = try PolicyRule(parsing: check)
        }
        self.rules = rules
        self.scopes = scopes
    }

    /// Builds from plain `name: check string` defaults (no scope types, nothing deprecated).
    public init(defaults: [String: String], policyFile: String? = nil) throws {
        try self.init(defaults: defaults.map { PolicyDefault($0.key, $0.value) }, policyFile: policyFile)
    }

    /// Whether `action` is allowed. An action with no rule is denied, and so is a token whose
    /// scope the rule does not accept.
    public func allows(_ action: String, target: [String: JSON], credentials: [String: JSON]) -> Bool {
        allows(action, flatTarget: PolicyEnforcer.flatten(target), credentials: credentials)
    }

    /// `allows` with the target already in oslo.policy's flattened form (`"target.token.user_id"`),
    /// for a hot path that knows its one key.
    public func allows(_ action: String, flatTarget: [String: String], credentials: [String: JSON]) -> Bool {
        guard let rule = rules[action] else { return false }
        if let accepted = scopes[action], !accepted.contains(PolicyDefault.scope(of: credentials)) { return false }
        return evaluate(rule, target: flatTarget, creds: credentials, depth: 0)
    }

    /// The decision for `action` when it does not depend on the target, else nil: the rule is
    /// evaluated with the target unknown (a check that substitutes `%(…)s` or reads a field is
    /// unknown; `and` / `or` / `not` combine as three-valued logic). Lists use it to decide once
    /// per request what would otherwise be decided once per item (an admin's `get_port`).
    public func decisionWithoutTarget(_ action: String, credentials: [String: JSON]) -> Bool? {
        guard let rule = rules[action] else { return false }
        if let accepted = scopes[action], !accepted.contains(PolicyDefault.scope(of: credentials)) { return false }
        return partial(rule, creds: credentials, depth: 0)
    }

    func partial(_ rule: PolicyRule, creds: [String: JSON], depth: Int) -> Bool? {
        switch rule {
        case .always: return true
        case .never: return false
        case .not(let r): return partial(r, creds: creds, depth: depth).map { !$0 }
        case .and(let rs):
            var unknown = false
            for r in rs {
                switch partial(r, creds: creds, depth: depth) {
                case .some(false): return false
                case .none: unknown = true
                case .some(true): continue
                }
            }
            return unknown ? nil : true
        case .or(let rs):
            var unknown = false
            for r in rs {
                switch partial(r, creds: creds, depth: depth) {
                case .some(true): return true
                case .none: unknown = true
                case .some(false): continue
                }
            }
            return unknown ? nil : false
        case .rule(let name):
            guard depth < 20, let r = rules[name] else { return false }
            return partial(r, creds: creds, depth: depth + 1)
        case .role(let match):
            if match.contains("%(") { return nil }
            return evaluate(rule, target: [:], creds: creds, depth: depth)
        case .generic(let kind, let match):
            if kind == "field" || match.contains("%(") { return nil }
            return evaluate(rule, target: [:], creds: creds, depth: depth)
        }
    }

    /// Whether the token's scope is one `action`'s rule accepts (oslo.policy's scope check alone).
    public func scopeAllows(_ action: String, credentials: [String: JSON]) -> Bool {
        guard let accepted = scopes[action] else { return true }
        return accepted.contains(PolicyDefault.scope(of: credentials))
    }

    /// Throws 403 in the service's format unless `action` is allowed.
    public func authorize(_ action: String, target: [String: JSON] = [:], caller: Caller) throws {
        try authorize(action, flatTarget: PolicyEnforcer.flatten(target), caller: caller)
    }

    /// `authorize` with a flattened target (see `allows(_:flatTarget:credentials:)`).
    public func authorize(_ action: String, flatTarget: [String: String], caller: Caller) throws {
        guard allows(action, flatTarget: flatTarget, credentials: caller.policyCredentials) else {
            throw OpenStackError.forbidden("You are not authorized to perform the requested action: \(action).")
        }
    }

    func evaluate(_ rule: PolicyRule, target: [String: String], creds: [String: JSON], depth: Int) -> Bool {
        switch rule {
        case .always: return true
        case .never: return false
        case .not(let r): return !evaluate(r, target: target, creds: creds, depth: depth)
        case .and(let rs): return rs.allSatisfy { evaluate($0, target: target, creds: creds, depth: depth) }
        case .or(let rs): return rs.contains { evaluate($0, target: target, creds: creds, depth: depth) }
        case .rule(let name):
            guard depth < 20, let r = rules[name] else { return false }
            return evaluate(r, target: target, creds: creds, depth: depth + 1)
        case .role(let match):
            guard let role = PolicyEnforcer.substitute(match, target), case .array(let roles)? = creds["roles"] else { return false }
            return roles.contains { held in
                guard case .string(let name) = held else { return false }
                return PolicyEnforcer.equalIgnoringCase(name, role)
            }
        case .generic("field", let match):
            return PolicyEnforcer.fieldCheck(match, target)
        case .generic(let kind, let match):
            guard let expected = PolicyEnforcer.substitute(match, target) else { return false }
            if let literal = PolicyEnforcer.literal(kind) { return expected == literal }
            var node: JSON = .object(creds)
            for segment in kind.split(separator: ".") {
                guard let child = node[String(segment)] else { return false }
                node = child
            }
            switch node {
            case .array(let items): return items.contains { PolicyEnforcer.pythonString($0) == expected }
            default: return PolicyEnforcer.pythonString(node) == expected
            }
        }
    }

    /// neutron's `field:<resource>:<attribute>=<value>` check: the target's attribute equals the
    /// value (`True`/`False` as Python prints them), or matches it as a regular expression when
    /// written `=~` (`field:port:device_owner=~^network:`). A missing attribute fails.
    static func fieldCheck(_ match: String, _ target: [String: String]) -> Bool {
        guard let colon = match.firstIndex(of: ":") else { return false }
        let rest = match[match.index(after: colon)...]
        guard let eq = rest.firstIndex(of: "=") else { return false }
        let attribute = String(rest[..<eq])
        var value = String(rest[rest.index(after: eq)...])
        guard let actual = target[attribute] else { return false }
        if value.hasPrefix("~") {
            value.removeFirst()
            return actual.range(of: value, options: .regularExpression) != nil
        }
        return actual == value
    }

    /// `%(key)s` substitution from the flattened target; nil when a key is missing
    /// (oslo.policy then fails the check). Scans the UTF-8 bytes: it runs on every policy check.
    static func substitute(_ match: String, _ target: [String: String]) -> String? {
        let bytes = match.utf8
        guard var open = Self.find(0x25, 0x28, in: bytes, from: bytes.startIndex) else { return match }  // "%("
        var out = ""
        var rest = bytes.startIndex
        repeat {
            let keyStart = bytes.index(open, offsetBy: 2)
            guard let close = Self.find(0x29, 0x73, in: bytes, from: keyStart) else { return nil }  // ")s"
            // Sliced as UTF-8, not as Characters: an index next to a combining mark is not a
            // Character boundary, and String slicing would round it.
            guard let value = target[String(decoding: bytes[keyStart..<close], as: UTF8.self)] else { return nil }
            out += String(decoding: bytes[rest..<open], as: UTF8.self)
            out += value
            rest = bytes.index(close, offsetBy: 2)
            guard let next = Self.find(0x25, 0x28, in: bytes, from: rest) else { break }
            open = next
        } while true
        out += String(decoding: bytes[rest...], as: UTF8.self)
        return out
    }

    /// The index of the first `a` followed by `b` at or after `from`.
    static func find(_ a: UInt8, _ b: UInt8, in bytes: String.UTF8View, from: String.Index) -> String.Index? {
        var i = from
        while i < bytes.endIndex {
            let next = bytes.index(after: i)
            if bytes[i] == a, next < bytes.endIndex, bytes[next] == b { return i }
            i = next
        }
        return nil
    }

    /// Role names compare case-insensitively, as oslo.policy lowers both sides; ASCII without
    /// allocating, anything else through `lowercased()`.
    static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        var x = a.utf8.makeIterator()
        var y = b.utf8.makeIterator()
        while true {
            switch (x.next(), y.next()) {
            case (nil, nil): return true
            case (let p?, let q?):
                if p >= 0x80 || q >= 0x80 { return a.lowercased() == b.lowercased() }
                let lp = p &+ (p >= 0x41 && p <= 0x5A ? 0x20 : 0)
                let lq = q &+ (q >= 0x41 && q <= 0x5A ? 0x20 : 0)
                if lp != lq { return false }
            default: return false
            }
        }
    }

    /// A KIND that Python's `ast.literal_eval` would accept: quoted strings, numbers, None, True, False.
    static func literal(_ kind: String) -> String? {
        if kind.count >= 2, let q = kind.first, q == "'" || q == "\"", kind.last == q { return String(kind.dropFirst().dropLast()) }
        if ["None", "True", "False"].contains(kind) { return kind }
        if Int(kind) != nil { return kind }
        return nil
    }

    /// How Python's `str()` renders a credential value.
    static func pythonString(_ v: JSON) -> String {
        switch v {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        default: return v.serialized()
        }
    }

    /// `{"target": {"project": {"id": "x"}}}` → `["target.project.id": "x", …]`; also keeps the
    /// flat keys the caller gave. Null becomes "None", as `%s` formats it.
    static func flatten(_ target: [String: JSON]) -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ prefix: String, _ v: JSON) {
            if case .object(let o) = v {
                for (k, child) in o { walk(prefix.isEmpty ? k : "\(prefix).\(k)", child) }
            } else {
                out[prefix] = pythonString(v)
            }
        }
        walk("", .object(target))
        return out
    }

    /// Reads `"name": "rule"` pairs from a policy.yaml (the flat subset oslo's generator writes)
    /// or a policy.json.
    static func readOverrides(_ path: String) throws -> [(String, String)] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, message: "cannot read the policy file")
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            guard case .object(let o) = try JSON.parse(Array(text.utf8)) else { return [] }
            return o.compactMap { k, v in v.stringValue.map { (k, $0) } }
        }
        var out: [(String, String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line == "---" { continue }
            guard let (key, rest) = splitKey(line) else {
                throw ConfigError(file: path, line: n + 1, message: "expected \"name\": \"rule\"")
            }
            out.append((key, unquote(rest.trimmingCharacters(in: .whitespaces))))
        }
        return out
    }

    static func splitKey(_ line: String) -> (String, String)? {
        if let q = line.first, q == "\"" || q == "'" {
            guard let close = line.dropFirst().firstIndex(of: q) else { return nil }
            let key = String(line[line.index(after: line.startIndex)..<close])
            let after = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
            guard after.hasPrefix(":") else { return nil }
            return (key, String(after.dropFirst()))
        }
        guard let colon = line.range(of: ": ") ?? (line.hasSuffix(":") ? line.range(of: ":", options: .backwards) : nil) else { return nil }
        return (String(line[..<colon.lowerBound]), String(line[colon.upperBound...]))
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, let q = s.first, q == "\"" || q == "'", s.last == q { return String(s.dropFirst().dropLast()) }
        return s
    }
}
