import Foundation
import Testing

@testable import StratusCore

@Suite("oslo.config-style configuration")
struct ConfigTests {
    let options: [ConfigOption] = [
        .string("DEFAULT", "my_ip", default: "10.0.0.1", "ip"),
        .string("DEFAULT", "transport", "t"),
        .string("database", "connection", "db"),
        .int("token", "expiration", default: 3600, min: 0, "exp"),
        .bool("cache", "enabled", default: false, "cache"),
        .string("vnc", "server_listen", default: "$my_ip", "listen"),
        .string("vnc", "url", "url"),
    ]

    func write(_ text: String, name: String = "test.conf") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stratus-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("sections, comments, continuation lines and quotes parse as oslo does")
    func parsesINI() throws {
        let ini = try INIFile(
            path: "x",
            contents: """
                # comment
                [DEFAULT]
                ; another comment
                my_ip = 192.168.0.10
                [database]
                connection = sqlite:////var/lib/k.db
                [vnc]
                url: "http://example/"
                long = first
                  second
                """
        )
        #expect(ini.entries.map(\.name) == ["my_ip", "connection", "url", "long"])
        #expect(ini.entries[2].value == "http://example/")
        #expect(ini.entries[3].value == "first\nsecond")
        #expect(ini.entries[1].line == 6)
    }

    @Test("$var and ${group.var} interpolate; $$ is a literal dollar")
    func interpolates() throws {
        let path = try write(
            """
            [DEFAULT]
            my_ip = 10.1.2.3
            [vnc]
            url = http://${vnc.server_listen}:6080/$$x
            """
        )
        let c = try Config.load(project: "nova", configFiles: [path], configDirs: [], options: options)
        #expect(c.string("vnc", "server_listen") == "10.1.2.3")
        #expect(c.string("vnc", "url") == "http://10.1.2.3:6080/$x")
    }

    @Test("later files and --config-dir files override earlier ones")
    func layering() throws {
        let a = try write("[token]\nexpiration = 10\n")
        let dir = (a as NSString).deletingLastPathComponent + "/conf.d"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "[token]\nexpiration = 30\n".write(toFile: dir + "/10-x.conf", atomically: true, encoding: .utf8)
        let c = try Config.load(project: "keystone", configFiles: [a], configDirs: [dir], options: options)
        #expect(c.int("token", "expiration") == 30)
        #expect(c.files.count == 2)
    }

    @Test("an unknown option is a warning naming file, section and option")
    func unknownOptionWarns() throws {
        let path = try write("[database]\nconection = x\n")
        let c = try Config.load(project: "keystone", configFiles: [path], configDirs: [], options: options)
        #expect(c.warnings.count == 1)
        #expect(c.warnings[0].contains(path) && c.warnings[0].contains("[database] conection"))
    }

    @Test("an invalid value refuses to load, naming file, section, option and why")
    func badValueFails() throws {
        let path = try write("[token]\nexpiration = soon\n")
        do {
            _ = try Config.load(project: "keystone", configFiles: [path], configDirs: [], options: options)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("[token] expiration"))
            #expect(error.description.contains("not an integer"))
        }
        let neg = try write("[token]\nexpiration = -1\n[cache]\nenabled = maybe\n")
        #expect(throws: ConfigError.self) { try Config.load(project: "k", configFiles: [neg], configDirs: [], options: options) }
    }

    @Test("a missing --config-file is an error")
    func missingFile() {
        #expect(throws: ConfigError.self) {
            try Config.load(project: "keystone", configFiles: ["/nonexistent/k.conf"], configDirs: [], options: options)
        }
    }
}

@Suite("JSON")
struct JSONTests {
    @Test("parse and serialize round trip, integers stay integers, strings are escaped")
    func roundTrip() throws {
        let text = #"{"a": [1, 2.5, true, null], "b": "q\"uote\n", "c": {"d": -3}}"#
        let v = try JSON.parse(Array(text.utf8))
        #expect(v["a"]?.arrayValue?.count == 4)
        #expect(v["c"]?["d"] == .int(-3))
        let again = try JSON.parse(Array(v.serialized().utf8))
        #expect(again == v)
        #expect(v.serialized().contains(#""q\"uote\n""#))
    }

    @Test("strings serialize with only quotes, backslashes and control characters escaped")
    func stringEscapes() {
        for (value, text) in [
            ("plain", #""plain""#), ("", #""""#), ("\"lead", #""\"lead""#), ("trail\\", #""trail\\""#),
            ("é😀 mid\u{01}dle\n", #""é😀 mid\u0001dle\n""#), ("a\"b\"c", #""a\"b\"c""#),
        ] {
            #expect(JSON.string(value).serialized() == text, "\(value)")
        }
    }

    @Test("JSONBytes writes what JSON.serialized writes")
    func bytes() throws {
        var w = JSONBytes()
        w.literal("{\"a\": ")
        w.string("q\"uo\\te\n\u{01}é")
        w.literal(", \"n\": [")
        for (i, n) in [0, 7, -42, 1_234_567_890_123, Int.min].enumerated() {
            if i > 0 { w.literal(", ") }
            w.int(n)
        }
        w.literal("]}")
        let parsed = try JSON.parse(w.bytes)
        #expect(parsed["a"] == .string("q\"uo\\te\n\u{01}é"))
        #expect(parsed["n"] == [0, 7, -42, 1_234_567_890_123, .int(Int64.min)])
    }

    @Test("malformed JSON is an error saying what and where")
    func malformed() {
        for (text, reason) in [
            ("{nope", "expected a string key, found 'n' at byte 1"), ("[1, 2", "unterminated array"),
            ("{\"a\": 1} x", "after the JSON value"), ("01", "leading zero"), ("\"\\q\"", "invalid escape"),
            ("", "unexpected end of input"), (String(repeating: "[", count: 200), "nesting deeper"),
        ] {
            do {
                _ = try JSON.parse(Array(text.utf8))
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.reason.contains(reason), "\(text): \(error.reason)")
            }
        }
    }

    @Test("escapes, surrogate pairs, numbers")
    func scalars() throws {
        let v = try JSON.parse(Array(#"["\u00e9\ud83d\ude00\t", 1.5e3, -0, 9007199254740993, 1e400, false]"#.utf8))
        #expect(v.arrayValue?[0] == "é😀\t")
        #expect(v.arrayValue?[1] == .double(1500))
        #expect(v.arrayValue?[2] == .int(0))
        #expect(v.arrayValue?[3] == .int(9_007_199_254_740_993))
        #expect(v.arrayValue?[5] == false)
    }
}

@Suite("error formats")
struct ErrorFormatTests {
    @Test("each service renders errors in its own shape")
    func shapes() {
        let e = OpenStackError.notFound("Could not find project: x.")
        #expect(
            ErrorFormat.identity.body(for: e, requestID: "r") == [
                "error": ["code": 404, "title": "Not Found", "message": "Could not find project: x."]
            ]
        )
        #expect(ErrorFormat.compute.body(for: e, requestID: "r")["itemNotFound"]?["code"] == 404)
        #expect(ErrorFormat.placement.body(for: e, requestID: "r")["errors"]?.arrayValue?.first?["request_id"] == "r")
    }
}
