import StratusCore
import Testing

@testable import Networking

/// Whether the rule refused its input (typed-throws closures crash `#expect(throws:)` in Swift 6.1).
func refused<T>(_ body: () throws -> T) -> Bool {
    do {
        _ = try body()
        return false
    } catch {
        return true
    }
}

/// Addresses, CIDRs, pools and IPAM's choice of the next address, on literal inputs.
@Suite struct AddressingTests {
    @Test func addressesParseAndPrintAsNetaddrDoes() {
        #expect(IPAddress("10.0.0.1")?.description == "10.0.0.1")
        #expect(IPAddress("10.0.0.256") == nil)
        #expect(IPAddress("10.0.0") == nil)
        #expect(IPAddress("010.0.0.1") == nil)
        #expect(IPAddress("fd00:0:0:0:0:0:0:1")?.description == "fd00::1")
        #expect(IPAddress("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress("::")?.description == "::")
        #expect(IPAddress("::ffff:10.0.0.1")?.description == "::ffff:a00:1")
        #expect(IPAddress("fd00::1::2") == nil)
        #expect(IPAddress("fd00::g") == nil)
        #expect(IPAddress("10.0.0.255")!.advanced(by: 1).description == "10.0.1.0")
        #expect(IPAddress("fd00::ffff:ffff:ffff:ffff")!.advanced(by: 1).description == "fd00:0:0:1::")
    }

    @Test func cidrsKnowTheirRanges() throws {
        let c = try #require(CIDR("10.0.0.0/24"))
        #expect((c.first.description, c.last.description) == ("10.0.0.0", "10.0.0.255"))
        #expect(c.defaultGateway?.description == "10.0.0.1")
        #expect(c.usableRange.map { "\($0.0)-\($0.1)" } == "10.0.0.1-10.0.0.254")
        #expect(CIDR("10.0.0.5/24")?.hostBitsSet == true)
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("fd00::/64")?.last.description == "fd00::ffff:ffff:ffff:ffff")
        #expect(CIDR("10.0.0.0/16")!.overlaps(CIDR("10.0.5.0/24")!))
        #expect(!CIDR("10.0.0.0/24")!.overlaps(CIDR("10.0.1.0/24")!))
        #expect(!CIDR("10.0.0.0/8")!.overlaps(CIDR("fd00::/8")!))
        #expect(CIDR("192.168.1.0/31")?.usableRange.map { "\($0.0)-\($0.1)" } == "192.168.1.0-192.168.1.1")
    }

    @Test func defaultPoolsLeaveOutTheGatewayAndBroadcast() throws {
        let c = try #require(CIDR("203.0.113.0/24"))
        #expect(
            SubnetRules.poolsJSON(SubnetRules.defaultPools(cidr: c, gateway: c.defaultGateway)).serialized()
                == #"[{"end": "203.0.113.254", "start": "203.0.113.2"}]"#
        )
        let middle = try #require(IPAddress("203.0.113.100"))
        #expect(
            SubnetRules.defaultPools(cidr: c, gateway: middle).map { "\($0.start)-\($0.end)" }
                == ["203.0.113.1-203.0.113.99", "203.0.113.101-203.0.113.254"]
        )
        let v6 = try #require(CIDR("fd00::/64"))
        #expect(
            SubnetRules.defaultPools(cidr: v6, gateway: v6.defaultGateway).map { "\($0.start)-\($0.end)" }
                == ["fd00::1-fd00::ffff:ffff:ffff:ffff"]
        )
    }

    @Test func givenPoolsAreCheckedAsNeutronDoes() throws {
        let c = try #require(CIDR("10.0.0.0/24"))
        let gw = c.defaultGateway
        let ok = try SubnetRules.pools([["start": "10.0.0.10", "end": "10.0.0.20"]], cidr: c, gateway: gw)
        #expect(ok.map { "\($0.start)-\($0.end)" } == ["10.0.0.10-10.0.0.20"])
        #expect(refused { try SubnetRules.pools([["start": "10.0.0.10", "end": "10.0.1.20"]], cidr: c, gateway: gw) })
        #expect(refused { try SubnetRules.pools([["start": "10.0.0.30", "end": "10.0.0.20"]], cidr: c, gateway: gw) })
        let overlapping: JSON = [["start": "10.0.0.10", "end": "10.0.0.20"], ["start": "10.0.0.15", "end": "10.0.0.25"]]
        #expect(refused { try SubnetRules.pools(overlapping, cidr: c, gateway: gw) })
        do {
            _ = try SubnetRules.pools([["start": "10.0.0.1", "end": "10.0.0.5"]], cidr: c, gateway: gw)
            Issue.record("a pool holding the gateway was accepted")
        } catch {
            #expect(error.code == "GatewayConflictWithAllocationPools" && error.status == .conflict)
        }
        #expect(refused { try SubnetRules.cidr("10.0.0.5/24", version: 4) })
        #expect(refused { try SubnetRules.cidr("fd00::/64", version: 4) })
        let defaulted = try SubnetRules.gateway(nil, cidr: c)
        let none = try SubnetRules.gateway(.null, cidr: c)
        #expect(defaulted?.description == "10.0.0.1" && none == nil)
        #expect(refused { try SubnetRules.gateway("10.0.0.255", cidr: c) })
    }

    @Test func theNextFreeAddressSkipsTakenOnesAcrossPools() throws {
        let pools = [
            IPRange(start: IPAddress("10.0.0.2")!, end: IPAddress("10.0.0.3")!),
            IPRange(start: IPAddress("10.0.0.10")!, end: IPAddress("10.0.0.11")!),
        ]
        let taken: Set<String> = ["10.0.0.2", "10.0.0.3", "10.0.0.10"]
        #expect(SubnetRules.firstFree(pools: pools, from: nil, taken: { taken.contains($0.description) })?.description == "10.0.0.11")
        #expect(SubnetRules.firstFree(pools: pools, from: IPAddress("10.0.0.4"), taken: { _ in false })?.description == "10.0.0.10")
        #expect(SubnetRules.firstFree(pools: pools, from: nil, taken: { _ in true }) == nil)
        #expect(IPAM.position(IPAddress("10.0.0.11")!, in: CIDR("10.0.0.0/24")!) == 11)
    }
}

/// ML2's segment rules, MACs, security group rules and request attribute rules.
@Suite struct NetworkRulesTests {
    var settings: NetworkSettings {
        var s = NetworkSettings()
        s.flatNetworks = ["provider"]
        s.vlanRanges = [VLANRange(physnet: "physnet1", range: 100...102)]
        s.vniRanges = [1...3]
        return s
    }

    @Test func segmentsFollowTheTypeDrivers() throws {
        #expect(try Segments.validate(.init(type: "flat", physnet: "provider", id: nil), settings: settings).physnet == "provider")
        #expect(refused { try Segments.validate(.init(type: "flat", physnet: "other", id: nil), settings: settings) })
        #expect(refused { try Segments.validate(.init(type: "flat", physnet: nil, id: nil), settings: settings) })
        #expect(refused { try Segments.validate(.init(type: "vlan", physnet: "physnet1", id: 4095), settings: settings) })
        #expect(refused { try Segments.validate(.init(type: "vxlan", physnet: "provider", id: nil), settings: settings) })
        #expect(refused { try Segments.validate(.init(type: "geneve", physnet: nil, id: nil), settings: settings) })
        #expect(Segments.firstFree(in: [1...3], used: [1, 3]) == 2)
        #expect(Segments.firstFree(in: [1...3], used: [1, 2, 3]) == nil)
        #expect(Segments.firstFree(in: [10...11, 1...2], used: [1]) == 2)
        #expect(settings.mtu(for: "vxlan") == 1450 && settings.mtu(for: "flat") == 1500)
        #expect(throws: ConfigError.self) { try VLANRange.parse("physnet1:5:2") }
        #expect(try VLANRange.parse("physnet1") == VLANRange(physnet: "physnet1", range: nil))
    }

    @Test func macsComeFromBaseMac() {
        let mac = MACAddress.random(base: "fa:16:3e:00:00:00")
        #expect(mac.hasPrefix("fa:16:3e:") && mac.count == 17)
        #expect(MACAddress.random(base: "fa:16:3e:4f:00:00").hasPrefix("fa:16:3e:4f:"))
        #expect(MACAddress.normalize("FA-16-3E-00-00-01") == "fa:16:3e:00:00:01")
        #expect(MACAddress.normalize("01:00:5e:00:00:01") == nil, "multicast")
        #expect(MACAddress.normalize("00:00:00:00:00:00") == nil)
        #expect(MACAddress.normalize("fa:16:3e:00:00") == nil)
    }

    @Test func securityGroupRulesAreValidatedAndCompared() throws {
        let icmp = try RuleRules.validate(["direction": "ingress", "protocol": "ICMP"])
        #expect(icmp["protocol"] == "icmp" && icmp["ethertype"] == "IPv4")
        let one = try RuleRules.validate(["direction": "ingress", "protocol": "1"])
        #expect(RuleRules.same(icmp, one), "icmp and 1 are one protocol")
        let ssh = try RuleRules.validate(["direction": "ingress", "protocol": "tcp", "port_range_min": 22])
        #expect(ssh["port_range_max"] == 22)
        #expect(refused { try RuleRules.validate(["direction": "sideways"]) })
        #expect(refused { try RuleRules.validate(["direction": "ingress", "port_range_min": 22]) })
        #expect(
            refused {
                try RuleRules.validate(["direction": "ingress", "protocol": "tcp", "port_range_min": 30, "port_range_max": 20])
            }
        )
        #expect(refused { try RuleRules.validate(["direction": "ingress", "protocol": "tcp", "port_range_min": 70000]) })
        #expect(refused { try RuleRules.validate(["direction": "ingress", "protocol": "icmp", "port_range_min": 256]) })
        #expect(refused { try RuleRules.validate(["direction": "ingress", "protocol": "bogus"]) })
        #expect(
            refused {
                try RuleRules.validate(["direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"])
            }
        )
        let host = try RuleRules.validate(["direction": "ingress", "remote_ip_prefix": "10.0.0.7"])
        #expect(host["normalized_cidr"] == "10.0.0.7/32")
    }

    @Test func requestBodiesAreCheckedAgainstTheAttributeMap() throws {
        let rules = [
            AttributeRule("name", .string(max: 5), default: ""), AttributeRule("admin_state_up", .bool, default: true),
            AttributeRule("network_id", .uuid, put: false),
        ]
        let created = try RequestRules.apply(
            ["network_id": "0b6c1a5e-8f3a-4a2c-9b1d-1234567890ab", "admin_state_up": "False"],
            rules: rules,
            creating: true
        )
        #expect(created["admin_state_up"] == false && created["name"] == "" && created["description"] == "")
        func refusal(_ body: [String: JSON], creating: Bool = true) -> OpenStackError? {
            do { _ = try RequestRules.apply(body, rules: rules, creating: creating) } catch { return error }
            return nil
        }
        #expect(refusal(["bogus": 1])?.message == "Unrecognized attribute(s) 'bogus'")
        #expect(refusal([:])?.message == "Failed to parse request. Required attribute 'network_id' not specified")
        #expect(refusal(["network_id": "x"])?.message == "Invalid input for network_id. Reason: 'x' is not a valid UUID.")
        #expect(refusal(["name": "toolong", "network_id": "0b6c1a5e-8f3a-4a2c-9b1d-1234567890ab"])?.code == "HTTPBadRequest")
        #expect(
            refusal(["network_id": "0b6c1a5e-8f3a-4a2c-9b1d-1234567890ab"], creating: false)?.message
                == "Cannot update read-only attribute network_id"
        )
        #expect(refusal(["project_id": "a", "tenant_id": "b", "network_id": "0b6c1a5e-8f3a-4a2c-9b1d-1234567890ab"])?.code == "InvalidInput")
    }

    @Test func policyAttributeRulesAreFoundInTheBody() {
        #expect(NetworkService.sets(["binding:host_id": "h"], ["binding", "host_id"]))
        #expect(NetworkService.sets(["fixed_ips": [["ip_address": "10.0.0.5"]]], ["fixed_ips", "ip_address"]))
        #expect(!NetworkService.sets(["fixed_ips": [["subnet_id": "s"]]], ["fixed_ips", "ip_address"]))
        #expect(NetworkService.sets(["external_gateway_info": ["enable_snat": false]], ["external_gateway_info", "enable_snat"]))
        #expect(NetworkPolicy.attributeRules["create_network"]?.contains("provider:network_type") == true)
        #expect(NetworkService.getter(of: "update_port") == "get_port")
    }
}
