import Foundation
import StratusAuth
import Testing

@testable import Identity

@Suite("Identity's shipped policy table")
struct IdentityPolicyTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Identity")

    /// `static let name = "identity:…"` declarations of IdentityPolicy.swift.
    func constants() throws -> [String: String] {
        let text = try String(contentsOf: Self.sources.appendingPathComponent("IdentityPolicy.swift"), encoding: .utf8)
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 5, words[0] == "static", words[1] == "let", words[3] == "=", words[4].hasPrefix("\"identity:") else { continue }
            out[String(words[2])] = String(words[4].dropFirst().dropLast())
        }
        return out
    }

    /// Every `IdentityPolicy.<name>` used by the service's code.
    func used() throws -> Set<String> {
        var out: Set<String> = []
        let files = FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil)!
        for case let url as URL in files where url.pathExtension == "swift" && url.lastPathComponent != "IdentityPolicy.swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            var rest = Substring(text)
            while let range = rest.range(of: "IdentityPolicy.") {
                let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber }
                out.insert(String(name))
                rest = rest[range.upperBound...]
            }
        }
        return out
    }

    @Test("every rule parses, names are unique, and the enforcer loads the table")
    func loads() throws {
        let names = IdentityPolicy.defaults.map(\.name)
        #expect(Set(names).count == names.count)
        _ = try PolicyEnforcer(defaults: IdentityPolicy.defaults)
        _ = try PolicyEnforcer(defaults: IdentityPolicy.defaults, enforceNewDefaults: false)
    }

    @Test("every constant has a rule, and every identity rule has a constant")
    func constantsMatchRules() throws {
        let constants = try constants()
        let rules = Set(IdentityPolicy.defaults.map(\.name))
        #expect(constants.count > 150)
        for (name, value) in constants { #expect(rules.contains(value), "\(name) = \(value) has no default rule") }
        let named = Set(constants.values)
        for rule in rules where rule.hasPrefix("identity:") { #expect(named.contains(rule), "\(rule) has no constant") }
    }

    @Test("every rule is enforced by a route or listed as not routed yet; no action is spelled as a string literal")
    func everyRuleUsedOrListed() throws {
        let constants = try constants()
        let used = try used().filter { constants[$0] != nil }
        let notRouted = Set(IdentityPolicy.notRouted)
        for name in constants.keys.sorted() {
            #expect(used.contains(name) != notRouted.contains(constants[name]!), "\(name): used \(used.contains(name))")
        }
        let files = FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil)!
        for case let url as URL in files where url.pathExtension == "swift" && url.lastPathComponent != "IdentityPolicy.swift" {
            #expect(!(try String(contentsOf: url, encoding: .utf8)).contains("\"identity:"), "\(url.lastPathComponent) spells an action")
        }
    }
}
