import StratusCore
import Testing

@testable import Image

/// glance's attribute rules and query parsing, on literal inputs.
@Suite struct ImageRulesTests {
    let rules = ImageRules(diskFormats: ["raw", "qcow2"], containerFormats: ["bare"], propertyQuota: 2, tagQuota: 2)

    func image(_ status: ImageStatus = .queued) -> ImageRecord {
        ImageRecord(id: "i", status: status, visibility: .shared, createdAt: 0, updatedAt: 0)
    }

    @Test func pointersAreDecodedAsGlanceDoes() throws {
        #expect(try ImageRules.decodePointer("/a~1b~0c") == ["a/b~c"])
        #expect(throws: ImageRules.Refusal.self) { try ImageRules.decodePointer("name") }
        #expect(throws: ImageRules.Refusal.self) { try ImageRules.decodePointer("/a//b") }
        #expect(throws: ImageRules.Refusal.self) { try ImageRules.decodePointer("/a/") }
        #expect(throws: ImageRules.Refusal.self) { try ImageRules.decodePointer("/a~2") }
    }

    @Test func patchParsingNamesTheProblem() throws {
        func refusal(_ body: JSON, draft: Int = 10) -> ImageRules.Refusal? {
            do { _ = try rules.parsePatch(body, draft: draft) } catch { return error }
            return nil
        }
        #expect(refusal(["op": "add"])?.message == "Request body must be a JSON array of operation objects.")
        #expect(refusal([["path": "/x"]])?.message.hasPrefix("Unable to find `op`") == true)
        #expect(refusal([["op": "move", "path": "/x"]])?.message.hasPrefix("Invalid operation: `'move'`") == true)
        #expect(refusal([["op": "add", "path": "/x"]])?.message == "Operation \"add\" requires a member named \"value\".")
        #expect(refusal([["op": "add", "path": "/a/b", "value": "1"]])?.message == "Invalid JSON pointer for this resource: '/a/b'")
        #expect(refusal([["op": "replace", "path": "/size", "value": 1]]) == .init(kind: .forbidden, message: "Attribute 'size' is read-only."))
        #expect(refusal([["op": "add", "path": "/deleted", "value": "1"]]) == .init(kind: .forbidden, message: "Attribute 'deleted' is reserved."))
        #expect(refusal([["add": "/x", "remove": "/y"]], draft: 4)?.message.contains("only one member") == true)
        let changes = try rules.parsePatch([["replace": "/name", "value": "n"]], draft: 4)
        #expect(changes == [.init(op: .replace, path: ["name"], value: "n", draft: 4)])
    }

    @Test func applyingChangesFollowsGlancesStatusRules() throws {
        var queued = image()
        try rules.apply([.init(op: .replace, path: ["disk_format"], value: "qcow2")], to: &queued, isAdmin: false) { _ in }
        #expect(queued.diskFormat == "qcow2")
        var active = image(.active)
        #expect(throws: ImageRules.Refusal(kind: .forbidden, message: "Attribute disk_format can be only replaced for a queued image.")) {
            try rules.apply([.init(op: .replace, path: ["disk_format"], value: "raw")], to: &active, isAdmin: true) { _ in }
        }
        #expect(throws: ImageRules.Refusal(kind: .forbidden, message: "Owner can't be updated by non admin.")) {
            try rules.apply([.init(op: .replace, path: ["owner"], value: "x")], to: &active, isAdmin: false) { _ in }
        }
        #expect(throws: ImageRules.Refusal(kind: .tooLarge, message: "Attempted: 3, Maximum: 2")) {
            try rules.apply(
                ["a", "b", "c"].map { .init(op: .add, path: [$0], value: "1") },
                to: &active,
                isAdmin: true
            ) { _ in }
        }
        var asked: [Visibility] = []
        var v = image()
        try rules.apply([.init(op: .replace, path: ["visibility"], value: "community")], to: &v, isAdmin: false) { asked.append($0) }
        #expect(asked == [.community] && v.visibility == .community)
    }

    @Test func createChecksTypesAndQuotas() throws {
        var i = image()
        var id: String?
        try rules.create(["name": "n", "id": "6B1C4C2B-1D54-4C5F-9F0A-0E1B2C3D4E5F", "tags": ["a", "a"]], into: &i, requestedID: &id)
        #expect(i.name == "n" && i.tags == ["a"] && id == "6B1C4C2B-1D54-4C5F-9F0A-0E1B2C3D4E5F")
        #expect(throws: ImageRules.Refusal.self) { try rules.create(["id": "nope"], into: &i, requestedID: &id) }
        #expect(throws: ImageRules.Refusal.self) { try rules.create(["min_disk": "1"], into: &i, requestedID: &id) }
        #expect(throws: ImageRules.Refusal.self) { try rules.create(["custom": 1], into: &i, requestedID: &id) }
        #expect(throws: ImageRules.Refusal(kind: .tooLarge, message: "Maximum number of tags exceeded. 3 tags given, 2 allowed.")) {
            try rules.create(["tags": ["a", "b", "c"]], into: &i, requestedID: &id)
        }
    }

    @Test func listQueriesParseGlancesParameters() throws {
        let settings = ImageSettings()
        let q = try ImageListQuery.parse(
            [("name", "in:a,\"b,c\""), ("sort", "name:asc,size"), ("limit", "5000"), ("created_at", "gt:2024-01-01T00:00:00Z"), ("os_distro", "x")],
            viewer: .project("p"),
            settings: settings
        )
        #expect(q.names == ["a", "b,c"])
        #expect(q.sort.map(\.key) == ["name", "size", "id"] && q.sort.map(\.ascending) == [true, false, false])
        #expect(q.limit == 1000)
        #expect(q.createdAt == [.init(op: .gt, value: 1_704_067_200)])
        #expect(q.properties.first?.0 == "os_distro")
        let defaults = try ImageListQuery.parse([], viewer: .project("p"), settings: settings)
        #expect(defaults.sort.map(\.key) == ["created_at", "id"] && defaults.limit == 25 && defaults.hidden == false)
        #expect(throws: OpenStackError.self) {
            try ImageListQuery.parse([("sort", "x"), ("sort_key", "name")], viewer: .project("p"), settings: settings)
        }
        #expect(throws: OpenStackError.self) {
            try ImageListQuery.parse(
                [("sort_key", "name"), ("sort_key", "size"), ("sort_dir", "asc"), ("sort_dir", "desc"), ("sort_dir", "asc")],
                viewer: .project("p"),
                settings: settings
            )
        }
        #expect(throws: OpenStackError.self) { try ImageListQuery.parse([("changes-since", "x")], viewer: .project("p"), settings: settings) }
    }

    @Test func rangesSizesAndTimes() {
        #expect(ByteRange.parse("bytes=0-9", size: 100) == 0...9)
        #expect(ByteRange.parse("bytes=90-", size: 100) == 90...99)
        #expect(ByteRange.parse("bytes=-10", size: 100) == 90...99)
        #expect(ByteRange.parse("bytes=50-500", size: 100) == 50...99)
        #expect(ByteRange.parse("bytes 10-19/*", size: 100) == 10...19)
        #expect(ByteRange.parse("bytes=100-", size: 100) == nil)
        #expect(ByteRange.parse("bytes=0-1,5-6", size: 100) == nil)
        #expect(ByteSize.parse("10GB") == 10 << 30 && ByteSize.parse("0") == 0 && ByteSize.parse("5 MB") == 5 << 20)
        #expect(ByteSize.parse("ten") == nil && ByteSize.parse("-1") == nil)
        #expect(Timestamp.render(1_704_067_200) == "2024-01-01T00:00:00Z")
        #expect(Timestamp.parse("2024-01-01T01:00:00+01:00") == 1_704_067_200)
        #expect(Timestamp.parse("2024-01-01") == 1_704_067_200)
        #expect(Timestamp.parse("2024-13-01") == nil && Timestamp.parse("yesterday") == nil)
    }
}

/// glance-api.conf values Stratus refuses at start, naming the option.
@Suite struct ImageSettingsTests {
    func settings(_ values: [(String, String, String)]) throws -> ImageSettings {
        try ImageSettings(config: Config.defaults(project: "glance", options: ImageOptions.all, values: values))
    }

    @Test func unsupportedSettingsAreRefusedByName() throws {
        for (group, name, value) in [
            ("DEFAULT", "user_storage_quota", "lots"), ("DEFAULT", "image_cache_dir", "/var/cache"),
            ("DEFAULT", "hashing_algorithm", "sha256"), ("glance_store", "default_store", "swift"),
            ("DEFAULT", "node_staging_uri", "http://x/"), ("image_format", "vmdk_allowed_types", "streamOptimized"),
        ] {
            #expect(throws: ConfigError.self, "\(group).\(name)") { try settings([(group, name, value)]) }
            do { _ = try settings([(group, name, value)]) } catch { #expect("\(error)".contains(name)) }
        }
        let s = try settings([("DEFAULT", "user_storage_quota", "2GB"), ("DEFAULT", "enabled_import_methods", "glance-direct,web-download")])
        #expect(s.userStorageQuota == 2 << 30 && s.importMethods == ["glance-direct"])
    }
}
