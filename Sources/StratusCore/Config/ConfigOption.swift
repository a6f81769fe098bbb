/// One option a service understands: oslo.config's `cfg.StrOpt(...)` as data. The table of
/// these drives typing, validation, unknown-option warnings and the sample config.
public struct ConfigOption: Sendable {
    /// The type of the value, which decides how it is validated.
    public enum Kind: Sendable {
        case string
        case int(min: Int? = nil, max: Int? = nil)
        case bool
        case float
        case choice([String])
        case list
        /// Accepted for compatibility and otherwise ignored (a one-line notice when set).
        case ignored(notice: String)
    }

    public var group: String
    public var name: String
    public var kind: Kind
    public var defaultValue: String?
    public var help: String
    /// Never logged or printed with its value.
    public var secret: Bool
    /// Other names oslo accepts for it (`deprecated_name`).
    public var aliases: [String]

    public init(group: String, name: String, kind: Kind, default: String?, help: String, secret: Bool = false, aliases: [String] = []) {
        self.group = group
        self.name = name
        self.kind = kind
        self.defaultValue = `default`
        self.help = help
        self.secret = secret
        self.aliases = aliases
    }

    public static func string(_ group: String, _ name: String, default: String? = nil, secret: Bool = false, _ help: String) -> ConfigOption {
        .init(group: group, name: name, kind: .string, default: `default`, help: help, secret: secret)
    }
    public static func int(_ group: String, _ name: String, default: Int?, min: Int? = nil, max: Int? = nil, _ help: String) -> ConfigOption {
        .init(group: group, name: name, kind: .int(min: min, max: max), default: `default`.map(String.init), help: help)
    }
    public static func bool(_ group: String, _ name: String, default: Bool, _ help: String) -> ConfigOption {
        .init(group: group, name: name, kind: .bool, default: String(`default`), help: help)
    }
    public static func choice(_ group: String, _ name: String, _ choices: [String], default: String?, _ help: String) -> ConfigOption {
        .init(group: group, name: name, kind: .choice(choices), default: `default`, help: help)
    }
    public static func list(_ group: String, _ name: String, default: String? = nil, _ help: String) -> ConfigOption {
        .init(group: group, name: name, kind: .list, default: `default`, help: help)
    }
    public static func ignored(_ group: String, _ name: String, _ notice: String) -> ConfigOption {
        .init(group: group, name: name, kind: .ignored(notice: notice), default: nil, help: notice)
    }

    /// Checks a raw value, returning the reason it is invalid or nil when it is fine.
    func problem(with value: String) -> String? {
        switch kind {
        case .string, .list, .ignored: return nil
        case .int(let min, let max):
            guard let i = Int(value) else { return "'\(value)' is not an integer" }
            if let min, i < min { return "\(i) is less than the minimum \(min)" }
            if let max, i > max { return "\(i) is greater than the maximum \(max)" }
            return nil
        case .float:
            return Double(value) == nil ? "'\(value)' is not a number" : nil
        case .bool:
            return Config.parseBool(value) == nil ? "'\(value)' is not a boolean (use true or false)" : nil
        case .choice(let choices):
            return choices.contains(value) ? nil : "'\(value)' is not one of \(choices.joined(separator: ", "))"
        }
    }
}
