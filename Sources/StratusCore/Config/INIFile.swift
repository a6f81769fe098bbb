import Foundation

/// One parsed oslo.config-style INI file: `[section]`, `name = value` (or `name: value`),
/// `#`/`;` comment lines, and indented continuation lines. Keeps where each value came from
/// so warnings and errors can name file, section and option.
public struct INIFile: Sendable {
    /// One `name = value` line, with its section and line number for messages.
    public struct Entry: Sendable, Equatable {
        public var section: String
        public var name: String
        public var value: String
        public var line: Int
    }

    public let path: String
    public private(set) var entries: [Entry] = []

    public init(path: String, contents: String) throws(ConfigError) {
        self.path = path
        var section: String?
        for (index, raw) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if let first = line.first, first == " " || first == "\t", !entries.isEmpty, entries.last!.section == section {
                // Continuation of the previous value (oslo's parser joins with a newline).
                entries[entries.count - 1].value += "\n" + trimmed
                continue
            }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw ConfigError(file: path, line: lineNumber, message: "invalid section header \(trimmed)")
                }
                section = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let sep = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ConfigError(file: path, line: lineNumber, message: "expected 'name = value', found \(trimmed)")
            }
            guard let section else {
                throw ConfigError(file: path, line: lineNumber, message: "option outside a [section]")
            }
            let name = trimmed[..<sep].trimmingCharacters(in: .whitespaces)
            var value = trimmed[trimmed.index(after: sep)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            entries.append(Entry(section: section, name: name, value: value, line: lineNumber))
        }
    }

    public static func load(_ path: String) throws(ConfigError) -> INIFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, message: "cannot read the file")
        }
        return try INIFile(path: path, contents: text)
    }
}

/// A configuration problem that stops a command from starting.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var section: String?
    public var option: String?
    public var message: String

    public init(file: String? = nil, line: Int? = nil, section: String? = nil, option: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.section = section
        self.option = option
        self.message = message
    }

    public var description: String {
        var place: [String] = []
        if let file { place.append(line.map { "\(file):\($0)" } ?? file) }
        if let section, let option { place.append("[\(section)] \(option)") }
        return place.isEmpty ? message : place.joined(separator: ": ") + ": " + message
    }
}
