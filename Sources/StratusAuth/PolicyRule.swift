import StratusCore

/// A parsed oslo.policy check string.
///
/// Grammar (oslo.policy's): `not` binds tighter than `and`, which binds tighter than `or`;
/// parentheses group; an empty string or `@` always passes, `!` never does. Checks are
/// `rule:NAME`, `role:NAME`, and generic `KIND:MATCH`, where MATCH may be a
/// `%(target.key)s` substitution and KIND a dotted path into the credentials
/// (`token.project.domain.id`) or a literal (`'manager'`, `None`, `True`).
public indirect enum PolicyRule: Sendable, Equatable {
    case always
    case never
    case rule(String)
    case role(String)
    case generic(kind: String, match: String)
    case not(PolicyRule)
    case and([PolicyRule])
    case or([PolicyRule])

    /// A check string that does not parse; the message quotes it.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var rule: String
        public var reason: String
        public var description: String { "invalid policy rule '\(rule)': \(reason)" }
    }

    public init(parsing text: String) throws(ParseError) {
        var parser = Parser(tokens: Parser.tokenize(text), text: text)
        if parser.tokens.isEmpty {
            self = .always
            return
        }
        self = try parser.parseOr()
        if parser.position < parser.tokens.count {
            throw ParseError(rule: text, reason: "unexpected '\(parser.tokens[parser.position])'")
        }
    }

    /// A recursive-descent parser over the tokens of a check string.
    struct Parser {
        var tokens: [String]
        var position = 0
        let text: String

        static func tokenize(_ text: String) -> [String] {
            var out: [String] = []
            for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                var w = Substring(word)
                while w.first == "(" {
                    out.append("(")
                    w = w.dropFirst()
                }
                var trailing = 0
                while w.last == ")" {
                    w = w.dropLast()
                    trailing += 1  // "%(x)s" ends in "s", so only group parentheses are stripped
                }
                if !w.isEmpty { out.append(String(w)) }
                out.append(contentsOf: Array(repeating: ")", count: trailing))
            }
            return out
        }

        mutating func next() -> String? {
            guard position < tokens.count else { return nil }
            defer { position += 1 }
            return tokens[position]
        }
        func peek() -> String? { position < tokens.count ? tokens[position] : nil }

        mutating func parseOr() throws(ParseError) -> PolicyRule {
            var terms = [try parseAnd()]
            while peek()?.lowercased() == "or" {
                _ = next()
                terms.append(try parseAnd())
            }
            return terms.count == 1 ? terms[0] : .or(terms)
        }

        mutating func parseAnd() throws(ParseError) -> PolicyRule {
            var terms = [try parseNot()]
            while peek()?.lowercased() == "and" {
                _ = next()
                terms.append(try parseNot())
            }
            return terms.count == 1 ? terms[0] : .and(terms)
        }

        mutating func parseNot() throws(ParseError) -> PolicyRule {
            if peek()?.lowercased() == "not" {
                _ = next()
                return .not(try parseNot())
            }
            return try parseAtom()
        }

        mutating func parseAtom() throws(ParseError) -> PolicyRule {
            guard let token = next() else { throw ParseError(rule: text, reason: "unexpected end of rule") }
            if token == "(" {
                let inner = try parseOr()
                guard next() == ")" else { throw ParseError(rule: text, reason: "missing ')'") }
                return inner
            }
            if token == ")" { throw ParseError(rule: text, reason: "unexpected ')'") }
            return PolicyRule.check(token)
        }
    }

    static func check(_ token: String) -> PolicyRule {
        if token == "@" { return .always }
        if token == "!" { return .never }
        guard let colon = token.firstIndex(of: ":") else { return .never }
        let kind = String(token[..<colon])
        let match = String(token[token.index(after: colon)...])
        switch kind {
        case "rule": return .rule(match)
        case "role": return .role(match)
        default: return .generic(kind: kind, match: match)
        }
    }
}
