import Foundation

/// A service's loaded configuration: oslo.config semantics over a table of `ConfigOption`s.
///
/// - Files: `--config-file` in order (later wins), then every `*.conf` of each `--config-dir`
///   in name order; with neither, the first of `~/.P/P.conf`, `~/P.conf`, `/etc/P/P.conf`,
///   `/etc/P.conf` plus the `P.conf.d` directory beside it, as oslo searches.
/// - Values are interpolated on read: `$name` (same group, then `[DEFAULT]`), `${group.name}`,
///   `$$` for a literal dollar.
/// - Unknown options are warnings naming file, section and option; invalid values throw
///   `ConfigError` naming them and why.
public struct Config: Sendable {
    /// A raw value and where it was set (file and line; nil for overrides).
    struct Value: Sendable {
        var raw: String
        var file: String?
        var line: Int?
    }

    public let project: String
    /// The files that were read, in order.
    public let files: [String]
    public private(set) var warnings: [String] = []
    let options: [String: ConfigOption]
    var values: [String: Value] = [:]

    static func key(_ group: String, _ name: String) -> String { "\(group.lowercased() == "default" ? "DEFAULT" : group).\(name)" }

    /// Loads and validates. `overrides` are applied after the files (command-line flags).
    ///
    /// With no `--config-file`/`--config-dir`, oslo's default search runs for `<project>.conf`
    /// and then `<prog>.conf` (so `glance-api` reads `/etc/glance/glance.conf` and
    /// `/etc/glance/glance-api.conf`): for each name the first of `~/.<project>/`, `~/`,
    /// `/etc/<project>/`, `/etc/` that has it, plus its `.conf.d` directory.
    public static func load(
        project: String,
        prog: String? = nil,
        configFiles: [String],
        configDirs: [String],
        options: [ConfigOption],
        overrides: [(String, String, String)] = [],
        searchDefaultFiles: Bool = true
    ) throws(ConfigError) -> Config {
        var paths = configFiles
        var dirs = configDirs
        if configFiles.isEmpty && configDirs.isEmpty && searchDefaultFiles {
            (paths, dirs) = defaultFiles(project: project, prog: prog)
        }
        for file in paths where !FileManager.default.fileExists(atPath: file) {
            throw ConfigError(file: file, message: "config file not found")
        }
        for dir in dirs {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
                throw ConfigError(file: dir, message: "config directory not found")
            }
            paths += names.filter { $0.hasSuffix(".conf") }.sorted().map { "\(dir)/\($0)" }
        }
        var config = Config(
            project: project,
            files: paths,
            options: Dictionary(
                options.flatMap { opt in
                    ([opt.name] + opt.aliases).map { (key(opt.group, $0), opt) }
                },
                uniquingKeysWith: { a, _ in a }
            )
        )
        for path in paths {
            let file = try INIFile.load(path)
            for entry in file.entries {
                let k = key(entry.section, entry.name)
                guard let option = config.options[k] else {
                    config.warnings.append("\(path):\(entry.line): unknown option [\(entry.section)] \(entry.name) (ignored)")
                    continue
                }
                if case .ignored(let notice) = option.kind {
                    config.warnings.append("\(path):\(entry.line): [\(entry.section)] \(entry.name): \(notice)")
                }
                config.values[key(option.group, option.name)] = Value(raw: entry.value, file: path, line: entry.line)
            }
        }
        for (group, name, value) in overrides {
            config.values[key(group, name)] = Value(raw: value, file: nil, line: nil)
        }
        try config.validate()
        return config
    }

    /// oslo.config's `find_config_files` and `find_config_dirs` for `project` and `prog`.
    public static func defaultFiles(project: String, prog: String?) -> (files: [String], dirs: [String]) {
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        var files: [String] = []
        var dirs: [String] = []
        for name in [project] + (prog.map { $0 == project ? [] : [$0] } ?? []) {
            let candidates = ["\(home)/.\(project)/\(name).conf", "\(home)/\(name).conf", "/etc/\(project)/\(name).conf", "/etc/\(name).conf"]
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else { continue }
            files.append(found)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: found + ".d", isDirectory: &isDir), isDir.boolValue { dirs.append(found + ".d") }
        }
        return (files, dirs)
    }

    /// A configuration with only defaults and the given values (tests, all-in-one).
    public static func defaults(project: String, options: [ConfigOption], values: [(String, String, String)] = []) throws(ConfigError) -> Config {
        try load(project: project, configFiles: [], configDirs: [], options: options, overrides: values, searchDefaultFiles: false)
    }

    func validate() throws(ConfigError) {
        for (k, option) in options where k == Config.key(option.group, option.name) {
            guard let stored = values[k] else { continue }
            let value: String
            do { value = try interpolate(stored.raw, group: option.group, depth: 0) } catch {
                throw ConfigError(file: stored.file, line: stored.line, section: option.group, option: option.name, message: error.message)
            }
            if let problem = option.problem(with: value) {
                throw ConfigError(file: stored.file, line: stored.line, section: option.group, option: option.name, message: problem)
            }
        }
    }

    /// The value as a string after interpolation, or the default.
    public func string(_ group: String, _ name: String) -> String? {
        let k = Config.key(group, name)
        let raw = values[k]?.raw ?? options[k]?.defaultValue
        guard let raw else { return nil }
        return (try? interpolate(raw, group: group, depth: 0)) ?? raw
    }

    public func int(_ group: String, _ name: String) -> Int? { string(group, name).flatMap { Int($0) } }
    public func double(_ group: String, _ name: String) -> Double? { string(group, name).flatMap { Double($0) } }
    public func bool(_ group: String, _ name: String) -> Bool { string(group, name).flatMap(Config.parseBool) ?? false }
    public func list(_ group: String, _ name: String) -> [String] {
        (string(group, name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    /// Where a value came from, for messages: "file:line: [group] name".
    public func origin(_ group: String, _ name: String) -> String {
        let v = values[Config.key(group, name)]
        let place = v?.file.map { f in v?.line.map { "\(f):\($0)" } ?? f } ?? "default"
        return "\(place): [\(group)] \(name)"
    }
    /// Whether the value was set explicitly (in a file or an override).
    public func isSet(_ group: String, _ name: String) -> Bool { values[Config.key(group, name)] != nil }

    public mutating func set(_ group: String, _ name: String, _ value: String) {
        values[Config.key(group, name)] = Value(raw: value)
    }

    public static func parseBool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: return nil
        }
    }

    /// An interpolation that refers to a missing option or loops.
    struct InterpolationError: Error { var message: String }

    func interpolate(_ raw: String, group: String, depth: Int) throws(InterpolationError) -> String {
        guard raw.contains("$") else { return raw }
        // Messages never quote the value: it may hold a password (`connection`, `password`).
        guard depth < 10 else { throw InterpolationError(message: "the value's $ references loop") }
        var out = ""
        var i = raw.startIndex
        while i < raw.endIndex {
            let c = raw[i]
            guard c == "$" else {
                out.append(c)
                i = raw.index(after: i)
                continue
            }
            let next = raw.index(after: i)
            if next < raw.endIndex, raw[next] == "$" {
                out.append("$")
                i = raw.index(after: next)
                continue
            }
            var ref: String
            if next < raw.endIndex, raw[next] == "{" {
                guard let close = raw[next...].firstIndex(of: "}") else {
                    throw InterpolationError(message: "the value has an unterminated ${ (write $$ for a literal $)")
                }
                ref = String(raw[raw.index(after: next)..<close])
                i = raw.index(after: close)
            } else {
                var end = next
                while end < raw.endIndex, raw[end].isLetter || raw[end].isNumber || raw[end] == "_" { end = raw.index(after: end) }
                ref = String(raw[next..<end])
                i = end
            }
            var refGroup = group
            if let dot = ref.firstIndex(of: ".") {
                refGroup = String(ref[..<dot])
                ref = String(ref[ref.index(after: dot)...])
            }
            let candidates = [Config.key(refGroup, ref), Config.key("DEFAULT", ref)]
            guard let k = candidates.first(where: { values[$0] != nil || options[$0]?.defaultValue != nil }) else {
                throw InterpolationError(message: "$\(ref) refers to an option that has no value (write $$ for a literal $)")
            }
            let target = values[k]?.raw ?? options[k]!.defaultValue!
            out += try interpolate(target, group: String(k.split(separator: ".")[0]), depth: depth + 1)
        }
        return out
    }

    /// `stratus config-sample`: every option with its help and default, commented out.
    public static func sample(_ options: [ConfigOption]) -> String {
        var out = ""
        var byGroup: [String: [ConfigOption]] = [:]
        for o in options { byGroup[o.group, default: []].append(o) }
        for group in byGroup.keys.sorted(by: { ($0 == "DEFAULT" ? "" : $0) < ($1 == "DEFAULT" ? "" : $1) }) {
            out += "[\(group)]\n\n"
            for o in byGroup[group]! {
                out += "# \(o.help)\n#\(o.name) = \(o.defaultValue ?? "<None>")\n\n"
            }
        }
        return out
    }
}
