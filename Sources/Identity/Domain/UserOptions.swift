import StratusCore

/// keystone's user resource options (`options` on a user), as far as Stratus implements them:
/// `ignore_lockout_failure_attempts` only. Any other option is refused with 400 rather than
/// stored and silently ignored (the rest come with the second Identity parity issue).
enum UserOptions {
    static let ignoreLockout = "ignore_lockout_failure_attempts"
    static let supported: Set<String> = [ignoreLockout]

    /// A refused `options` value: the field path and keystone's schema message.
    struct Refusal: Error, Equatable {
        var field: String
        var message: String
    }

    /// The changes an `options` object asks for: a boolean sets an option, null removes it.
    static func changes(_ value: JSON) -> Result<[String: JSON], Refusal> {
        guard case .object(let fields) = value else {
            return .failure(Refusal(field: "options", message: "\(value.serialized()) is not of type 'object'"))
        }
        var out: [String: JSON] = [:]
        for (name, v) in fields.sorted(by: { $0.key < $1.key }) {
            guard supported.contains(name) else {
                return .failure(Refusal(field: "options", message: "Additional properties are not allowed ('\(name)' was unexpected)"))
            }
            switch v {
            case .bool, .null: out[name] = v
            default: return .failure(Refusal(field: "options/\(name)", message: "\(v.serialized()) is not of type 'boolean', 'null'"))
            }
        }
        return .success(out)
    }

    /// `current` with `changes` applied (null removes an option).
    static func apply(_ changes: [String: JSON], to current: [String: JSON]) -> [String: JSON] {
        var out = current
        for (name, v) in changes {
            if v == .null { out.removeValue(forKey: name) } else { out[name] = v }
        }
        return out
    }

    /// Whether failed logins neither count nor lock the account (service users).
    static func ignoresLockout(_ options: [String: JSON]) -> Bool {
        options[ignoreLockout] == .bool(true)
    }
}
