import Foundation
import StratusCore

/// nova's request-body validation (api/validation/validators.py over jsonschema Draft 2020-12) for the
/// keywords Compute's domain rules use, so that a 400 reads as nova's does, word for word:
/// `Invalid input for field/attribute <key>. Value: <str(value)>. <jsonschema message>`.
/// Values are shown as Python would (`True`, `None`, `'x'`, `1e+39`); an object's keys come out sorted,
/// where nova shows them in request order.
enum NovaSchema {
    /// The request body as StratusCore parses it.
    typealias Value = JSON

    /// A numeric bound with the text jsonschema prints for it (`repr` of the schema's literal).
    struct Bound: Sendable {
        var value: Double
        var text: String
        init(_ value: Int) { (self.value, text) = (Double(value), String(value)) }
        init(_ value: Double) { (self.value, text) = (value, NovaSchema.pyFloat(value)) }
    }

    /// One schema keyword; a schema lists them in the order of nova's dict, as jsonschema checks them.
    enum Keyword: Sendable {
        case type([String])
        /// `format: name` (parameter_types.valid_name_regex).
        case nameFormat
        case minLength(Int)
        case maxLength(Int)
        /// The pattern's source (for the message) and a matcher for what it accepts before Python's `$`.
        case pattern(String, @Sendable ([Unicode.Scalar]) -> Bool)
        /// nova's minimum/maximum also compare strings, as `int()` (else `float()`) reads them.
        case minimum(Bound)
        case maximum(Bound)
        case exclusiveMinimum(Bound)
        /// jsonschema's `enum`.
        case oneOf([Value])
        case properties([(String, Schema)])
        case required([String])
        case noAdditionalProperties
        case allOf([Schema])
    }

    struct Schema: Sendable {
        var keywords: [Keyword]
        init(_ keywords: [Keyword]) { self.keywords = keywords }
    }

    /// `parameter_types.name`: printable, no leading or trailing whitespace, 1 to 255 characters.
    static let name = Schema([.type(["string"]), .nameFormat, .minLength(1), .maxLength(255)])

    /// An object schema as nova writes them: properties, required, `additionalProperties: False`.
    static func object(_ properties: [(String, Schema)], required: [String]) -> Schema {
        Schema([.type(["object"]), .properties(properties), .required(required), .noAdditionalProperties])
    }

    static let invalidName =
        "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."

    /// nova's 400 text for the first failure of `value` against `schema`, nil if it passes.
    static func check(_ value: Value, _ schema: Schema) -> String? {
        guard let f = failure(value, schema, path: []) else { return nil }
        if f.invalidName { return invalidName }
        guard let field = f.path.last else { return f.message }
        return "Invalid input for field/attribute \(field). Value: \(pyStr(f.value)). \(f.message)"
    }

    private struct Failure {
        var path: [String]
        var value: Value
        var message: String
        var invalidName = false
    }

    private static func failure(_ v: Value, _ schema: Schema, path: [String]) -> Failure? {
        func fail(_ message: String) -> Failure { Failure(path: path, value: v, message: message) }
        let text = pyRepr(v)
        for keyword in schema.keywords {
            switch keyword {
            case .type(let types) where !types.contains(where: { isType(v, $0) }):
                return fail("\(text) is not of type \(types.map { pyRepr(.string($0)) }.joined(separator: ", "))")
            case .nameFormat where !isValidName(v):
                return Failure(path: path, value: v, message: "", invalidName: true)
            case .minLength(let n):
                if let s = v.stringValue, s.unicodeScalars.count < n { return fail("\(text) \(n == 1 ? "should be non-empty" : "is too short")") }
            case .maxLength(let n):
                if let s = v.stringValue, s.unicodeScalars.count > n { return fail("\(text) \(n == 0 ? "is expected to be empty" : "is too long")") }
            case .pattern(let source, let matches):
                if let s = v.stringValue, !pySearch(s, matches) { return fail("\(text) does not match \(pyRepr(.string(source)))") }
            case .minimum(let b):
                if let n = pyNumber(v), n.value < b.value { return fail("\(n.text) is less than the minimum of \(b.text)") }
            case .maximum(let b):
                if let n = pyNumber(v), n.value > b.value { return fail("\(n.text) is greater than the maximum of \(b.text)") }
            case .exclusiveMinimum(let b):
                if let d = numberValue(v), d <= b.value { return fail("\(text) is less than or equal to the minimum of \(b.text)") }
            case .oneOf(let options) where !options.contains(where: { pyEqual($0, v) }):
                return fail("\(text) is not one of \(pyRepr(.array(options)))")
            case .properties(let properties):
                guard case .object(let o) = v else { continue }
                for (key, sub) in properties {
                    if let child = o[key], let f = failure(child, sub, path: path + [key]) { return f }
                }
            case .required(let keys):
                guard case .object(let o) = v else { continue }
                if let missing = keys.first(where: { o[$0] == nil }) { return fail("\(pyRepr(.string(missing))) is a required property") }
            case .noAdditionalProperties:
                guard case .object(let o) = v else { continue }
                let known = Set(
                    schema.keywords.flatMap { k -> [String] in
                        if case .properties(let p) = k { return p.map(\.0) }
                        return []
                    }
                )
                let extras = pySorted(o.keys.filter { !known.contains($0) })
                if !extras.isEmpty {
                    let list = extras.map { pyRepr(.string($0)) }.joined(separator: ", ")
                    return fail("Additional properties are not allowed (\(list) \(extras.count == 1 ? "was" : "were") unexpected)")
                }
            case .allOf(let schemas):
                for sub in schemas { if let f = failure(v, sub, path: path) { return f } }
            default:
                continue
            }
        }
        return nil
    }

    private static func isType(_ v: Value, _ type: String) -> Bool {
        switch (type, v) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .int), ("number", .double), ("integer", .int): true
        case ("integer", .double(let d)): d.isFinite && d == d.rounded(.towardZero)
        default: false
        }
    }

    private static func numberValue(_ v: Value) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// jsonschema's `equal`: booleans never equal numbers; 1 equals 1.0.
    private static func pyEqual(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.bool, .bool), (.string, .string), (.null, .null), (.array, .array), (.object, .object): a == b
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double): numberValue(a) == numberValue(b)
        default: false
        }
    }

    /// nova's `_number_from_str`: `int(x)`, else `float(x)`; jsonschema prints the converted number.
    private static func pyNumber(_ v: Value) -> (value: Double, text: String)? {
        switch v {
        case .int(let i): return (Double(i), String(i))
        case .bool(let b): return (b ? 1 : 0, b ? "1" : "0")
        case .double(let d) where d.isFinite: return (d.rounded(.towardZero), pyIntText(d))
        case .string(let s):
            let t = pyStrip(s)
            var digits = Substring(t)
            let negative = digits.first == "-"
            if negative || digits.first == "+" { digits = digits.dropFirst() }
            if !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) {
                let trimmed = digits.drop { $0 == "0" }
                let text = trimmed.isEmpty ? "0" : (negative ? "-" : "") + trimmed
                return (Double(text) ?? .infinity, text)
            }
            guard !t.isEmpty, t.allSatisfy({ ("0"..."9").contains($0) || "+-.eE".contains($0) }), let d = Double(t) else { return nil }
            return (d, pyFloat(d))
        default: return nil
        }
    }
}

// MARK: - Python's text rules, so messages print values the way nova's do

extension NovaSchema {
    /// nova's `_is_printable` over the Basic Multilingual Plane, the range its regexes are built from:
    /// not a control/format/unassigned/private-use character, and no separator but a space separator.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        guard c.value < 0xFFFF else { return false }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: return false
        default: return true
        }
    }

    private static func isSpaceSeparator(_ c: Unicode.Scalar) -> Bool { c.properties.generalCategory == .spaceSeparator }

    /// `format: name`: printable, and neither first nor last character whitespace (`re.search`, so one
    /// trailing newline is tolerated, as Python's `$` allows).
    static func isValidName(_ v: Value) -> Bool {
        guard let s = v.stringValue else { return false }
        let all = Array(s.unicodeScalars)
        func edge(_ c: Unicode.Scalar?) -> Bool {
            guard let c, c.value < 0xFFFF else { return true }
            return isPrintable(c) && !isSpaceSeparator(c)
        }
        return pyDollar(all) { t in t.allSatisfy(isPrintable) && edge(all.first) && edge(t.last) }
    }

    /// `re.search` of an anchored pattern: `$` also matches before one final newline.
    static func pySearch(_ s: String, _ matches: ([Unicode.Scalar]) -> Bool) -> Bool {
        pyDollar(Array(s.unicodeScalars), matches)
    }

    private static func pyDollar(_ all: [Unicode.Scalar], _ matches: ([Unicode.Scalar]) -> Bool) -> Bool {
        matches(all) || (all.last == "\n" && matches(Array(all.dropLast())))
    }

    /// Whether every scalar of a non-empty `s` is in a regex-style class like `a-zA-Z0-9._-`.
    static func all(_ s: [Unicode.Scalar], in spec: String) -> Bool {
        let c = Array(spec.unicodeScalars)
        var ranges: [ClosedRange<UInt32>] = []
        var i = 0
        while i < c.count {
            let wide = i + 2 < c.count && c[i + 1] == "-"
            ranges.append(c[i].value...c[wide ? i + 2 : i].value)
            i += wide ? 3 : 1
        }
        return !s.isEmpty && s.allSatisfy { ch in ranges.contains { $0.contains(ch.value) } }
    }

    /// `str.strip()`: Python's whitespace at both ends.
    static func pyStrip(_ s: String) -> String {
        let space: (Unicode.Scalar) -> Bool = { c in
            (0x09...0x0D).contains(c.value) || (0x1C...0x20).contains(c.value) || c.value == 0x85 || c.value == 0x2028
                || c.value == 0x2029 || c.properties.generalCategory == .spaceSeparator
        }
        let scalars = Array(s.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !space($0) }), let last = scalars.lastIndex(where: { !space($0) }) else { return "" }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[first...last])
        return String(out)
    }

    /// `str(value)`: a string as is, anything else as `repr`.
    static func pyStr(_ v: Value) -> String { v.stringValue ?? pyRepr(v) }

    /// Python's `repr` of the value a JSON document decodes to.
    static func pyRepr(_ v: Value) -> String {
        switch v {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return pyFloat(d)
        case .string(let s): return pyStringRepr(s)
        case .array(let a): return "[" + a.map(pyRepr).joined(separator: ", ") + "]"
        case .object(let o): return "{" + pySorted(Array(o.keys)).map { "\(pyStringRepr($0)): \(pyRepr(o[$0]!))" }.joined(separator: ", ") + "}"
        }
    }

    /// Sorted by code point, as Python sorts strings.
    static func pySorted(_ keys: [String]) -> [String] {
        keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) { $0.value < $1.value } }
    }

    private static func pyStringRepr(_ s: String) -> String {
        let quote: Unicode.Scalar = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(Character(quote))
        for c in s.unicodeScalars {
            switch c {
            case quote, "\\": out += "\\" + String(Character(c))
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                let category = c.properties.generalCategory
                let hidden: Set<Unicode.GeneralCategory> = [
                    .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator,
                ]
                if c == " " || (c.value >= 0x20 && c.value != 0x7F && !hidden.contains(category)) {
                    out.unicodeScalars.append(c)
                } else {
                    let hex = String(c.value, radix: 16)
                    let width = c.value <= 0xFF ? 2 : c.value <= 0xFFFF ? 4 : 8
                    let prefix = width == 2 ? "\\x" : width == 4 ? "\\u" : "\\U"
                    out += prefix + String(repeating: "0", count: width - hex.count) + hex
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    /// Python's `repr(float)`: the shortest round-trip digits (as Swift finds them), written in
    /// exponent form when the decimal exponent is below -4 or at least 16.
    static func pyFloat(_ d: Double) -> String {
        guard d.isFinite else { return d.isNaN ? "nan" : (d < 0 ? "-inf" : "inf") }
        var text = Substring(d.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var digits = Array(parts[0] + (parts.count > 1 ? parts[1] : ""))
        var point = parts[0].count + exponent  // the decimal point sits after `point` digits
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let sign = d.sign == .minus ? "-" : ""
        if digits.isEmpty { return sign + "0.0" }
        let n = digits.count
        if point <= -4 || point > 16 {
            let mantissa = n == 1 ? String(digits) : String(digits[0]) + "." + String(digits[1...])
            let e = point - 1
            return sign + mantissa + "e" + (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "") + String(abs(e))
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= n { return sign + String(digits) + String(repeating: "0", count: point - n) + ".0" }
        return sign + String(digits[..<point]) + "." + String(digits[point...])
    }

    /// Python's `int(d)` of a finite double, every digit of it.
    private static func pyIntText(_ d: Double) -> String {
        let t = d.rounded(.towardZero)
        if t.magnitude < 9e18 { return String(Int64(t)) }
        var digits: [UInt8] = [0]  // little-endian decimal digits of the significand, then doubled
        var significand = t.significandBitPattern | (1 << 52)
        var place: [UInt8] = [1]
        while significand > 0 {
            if significand & 1 == 1 { digits = add(digits, place) }
            place = add(place, place)
            significand >>= 1
        }
        for _ in 0..<(Int(t.exponent) - 52) { digits = add(digits, digits) }
        return (t < 0 ? "-" : "") + String(digits.reversed().map { Character(String($0)) })
    }

    private static func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var carry: UInt8 = 0
        for i in 0..<max(a.count, b.count) {
            let s = (i < a.count ? a[i] : 0) + (i < b.count ? b[i] : 0) + carry
            out.append(s % 10)
            carry = s / 10
        }
        if carry > 0 { out.append(carry) }
        return out
    }

    /// `'^[%s]*$' % _build_regex_range()`: nova's printable class as Python writes it out (`re.escape`d
    /// range ends), which its pattern messages quote in full.
    static let printablePattern: String = {
        var out = "^["
        func escaped(_ v: UInt32) -> String {
            let c = Unicode.Scalar(v)!
            return "()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}".unicodeScalars.contains(c) ? "\\" + String(Character(c)) : String(Character(c))
        }
        var start: UInt32?
        for v in UInt32(0)...0xFFFF {
            let valid = v < 0xFFFF && Unicode.Scalar(v).map(isPrintable) == true
            if valid, start == nil {
                start = v
                out += escaped(v)
            } else if !valid, let s = start {
                if v - 1 != s { out += "-" + escaped(v - 1) }
                start = nil
            }
        }
        return out + "]*$"
    }()
}
