import Testing

@testable import Compute

/// nova's flavor create/update validation and its 400 texts, on literal bodies.
@Suite struct FlavorRulesTests {
    func create(_ flavor: [String: NovaSchema.Value], minor: Int = 1) -> Result<FlavorSpec, FlavorRules.Refusal> {
        FlavorRules.create(.object(["flavor": .object(flavor)]), minor: minor, newID: { "generated" })
    }

    func refusal(_ flavor: [String: NovaSchema.Value], minor: Int = 1) -> String? {
        if case .failure(let r) = create(flavor, minor: minor) { return r.message }
        return nil
    }

    func with(_ key: String, _ value: NovaSchema.Value) -> [String: NovaSchema.Value] {
        var flavor: [String: NovaSchema.Value] = ["name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1]
        flavor[key] = value
        return flavor
    }

    @Test func aMinimalFlavorGetsNovasDefaults() throws {
        let spec = try create(["name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1]).get()
        #expect(
            spec
                == FlavorSpec(
                    name: "m1.tiny",
                    flavorID: "generated",
                    ram: 512,
                    vcpus: 1,
                    disk: 1,
                    ephemeral: 0,
                    swap: 0,
                    rxtxFactor: 1.0,
                    isPublic: true,
                    description: nil
                )
        )
        let full = try create(
            [
                "name": "big", "id": 42, "ram": "2048", "vcpus": 4, "disk": 0, "OS-FLV-EXT-DATA:ephemeral": 10, "swap": 512,
                "rxtx_factor": 2.5, "os-flavor-access:is_public": "no", "description": "for tests",
            ],
            minor: 55
        ).get()
        #expect(full.flavorID == "42" && full.ram == 2048 && full.ephemeral == 10 && full.swap == 512)
        #expect(full.rxtxFactor == 2.5 && !full.isPublic && full.description == "for tests")
    }

    @Test func rangesAreRefusedWithJSONSchemasWords() {
        #expect(refusal(with("ram", 0)) == "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1")
        #expect(refusal(with("ram", "0")) == "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1")
        #expect(refusal(with("vcpus", 0)) == "Invalid input for field/attribute vcpus. Value: 0. 0 is less than the minimum of 1")
        #expect(refusal(with("disk", -1)) == "Invalid input for field/attribute disk. Value: -1. -1 is less than the minimum of 0")
        #expect(
            refusal(with("swap", 2_147_483_648))
                == "Invalid input for field/attribute swap. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647"
        )
        #expect(
            refusal(with("OS-FLV-EXT-DATA:ephemeral", -5))
                == "Invalid input for field/attribute OS-FLV-EXT-DATA:ephemeral. Value: -5. -5 is less than the minimum of 0"
        )
        #expect(
            refusal(with("rxtx_factor", 0))
                == "Invalid input for field/attribute rxtx_factor. Value: 0. 0 is less than or equal to the minimum of 0"
        )
    }

    @Test func typesAndPatternsAreRefusedWithJSONSchemasWords() {
        #expect(refusal(with("ram", 1.5)) == "Invalid input for field/attribute ram. Value: 1.5. 1.5 is not of type 'integer', 'string'")
        #expect(refusal(with("ram", "1e3")) == #"Invalid input for field/attribute ram. Value: 1e3. '1e3' does not match '^[0-9]+$'"#)
        #expect(refusal(with("vcpus", true)) == "Invalid input for field/attribute vcpus. Value: True. True is not of type 'integer', 'string'")
        #expect(
            refusal(with("id", " a"))
                == "Invalid input for field/attribute id. Value:  a. ' a' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'"
        )
        #expect(refusal(with("name", "")) == "Invalid input for field/attribute name. Value: . '' should be non-empty")
        #expect(refusal(with("name", " padded")) == NovaSchema.invalidName)
        let notOneOf = "Invalid input for field/attribute os-flavor-access:is_public. Value: maybe. 'maybe' is not one of [True, 'True', 'TRUE'"
        #expect(refusal(with("os-flavor-access:is_public", "maybe"))?.hasPrefix(notOneOf) == true)
    }

    @Test func flavorsCreateOwnChecksFollowTheSchema() {
        // 512.0 passes the schema ("integer") but not `int(str(512.0))`.
        #expect(refusal(with("ram", 512.0)) == "Invalid input received: ram must be an integer")
        #expect(
            refusal(with("rxtx_factor", "0"))
                == "Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38"
        )
    }

    @Test func missingAndUnknownKeysNameTheFlavorObject() {
        #expect(
            refusal(["name": "x", "vcpus": 1, "disk": 1])
                == "Invalid input for field/attribute flavor. Value: {'disk': 1, 'name': 'x', 'vcpus': 1}. 'ram' is a required property"
        )
        let unexpected = "Additional properties are not allowed ('rxtx_factor' was unexpected)"
        #expect(refusal(with("rxtx_factor", 1), minor: 102)?.hasSuffix(unexpected) == true)
        #expect(refusal(with("description", "d"), minor: 54)?.hasSuffix("('description' was unexpected)") == true)
        if case .failure(let r) = FlavorRules.create(.object([:]), minor: 1) { #expect(r.message == "'flavor' is a required property") }
    }

    @Test func theIDIsNovasStringOrANewUUID() throws {
        #expect(try create(with("id", nil)).get().flavorID == "generated")
        #expect(try create(with("id", 0)).get().flavorID == "generated")
        #expect(try create(with("id", 7)).get().flavorID == "7")
        #expect(try create(with("id", 1.5)).get().flavorID == "1.5")
        #expect(try create(with("id", "auto")).get().flavorID == "auto")
        let generated = try FlavorRules.create(.object(["flavor": .object(with("ram", 64))]), minor: 1).get().flavorID
        #expect(generated.count == 36 && generated == generated.lowercased())
    }

    @Test func descriptionsArePrintableTextUpTo65535() throws {
        #expect(try create(with("description", nil), minor: 55).get().description == nil)
        let newline = refusal(with("description", "two\nlines"), minor: 55)
        let quoted = #"'two\nlines' does not match '^[\\ -\\~\xa0-"#
        #expect(newline?.hasPrefix("Invalid input for field/attribute description. Value: two\nlines. " + quoted) == true)
        #expect(refusal(with("description", .string(String(repeating: "d", count: 65536))), minor: 55)?.hasSuffix("' is too long") == true)
        if case .failure(let r) = FlavorRules.updateDescription(["flavor": [:]]) {
            #expect(r.message == "Invalid input for field/attribute flavor. Value: {}. 'description' is a required property")
        }
        #expect(try FlavorRules.updateDescription(["flavor": ["description": "new"]]).get() == "new")
    }

    @Test func conflictsUseNovasWords() {
        #expect(FlavorRules.nameExists("m1.tiny") == "Flavor with name m1.tiny already exists.")
        #expect(FlavorRules.idExists("42") == "Flavor with ID 42 already exists.")
    }

    @Test func valuesPrintAsPythonPrintsThem() {
        #expect(NovaSchema.pyFloat(1e16) == "1e+16")
        #expect(NovaSchema.pyFloat(1e15) == "1000000000000000.0")
        #expect(NovaSchema.pyFloat(1e-5) == "1e-05")
        #expect(NovaSchema.pyFloat(9_007_199_254_740_992) == "9007199254740992.0")
        #expect(NovaSchema.pyRepr(["a": [nil, true, 1.0], "b": "it's"]) == #"{'a': [None, True, 1.0], 'b': "it's"}"#)
        #expect(NovaSchema.pyRepr("tab\there\u{7f}\u{a0}é") == #"'tab\there\x7f\xa0é'"#)
    }
}
