import SQLKit
import StratusCore
import StratusStorage

/// `ip_allocations`: which port holds which address of which subnet. The primary key (subnet,
/// address) is what makes a double allocation impossible; `position` (the offset from the
/// subnet's first address, -1 when it does not fit) lets the next free address be found
/// without reading every allocation.
struct IPAllocationStore: Sendable {
    struct Allocation: Sendable, Equatable {
        var subnetID: String
        var ipAddress: String
        var portID: String
    }

    /// Holds the subnet's row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's
    /// writers are serialized already): allocations in one subnet queue instead of racing.
    func lockSubnet(_ id: String, in sql: any SQLDatabase) async throws {
        _ = try await sql.select().column("id").from("subnets").where("id", .equal, id).for(.update).first()
    }

    func isAllocated(_ ip: String, subnet: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("port_id").from("ip_allocations").where("subnet_id", .equal, subnet)
            .where("ip_address", .equal, ip).first() != nil
    }

    func add(_ a: Allocation, network: String, position: Int64, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "ip_allocations").columns("subnet_id", "ip_address", "port_id", "network_id", "position")
            .values(SQLBind(a.subnetID), SQLBind(a.ipAddress), SQLBind(a.portID), SQLBind(network), SQLBind(position)).run()
    }

    func highestPosition(subnet: String, in sql: any SQLDatabase) async throws -> Int64? {
        try await sql.select().column(SQLFunction("MAX", args: SQLIdentifier("position")), as: "p").from("ip_allocations")
            .where("subnet_id", .equal, subnet).where("position", .greaterThanOrEqual, Int64(0)).first()?
            .decode(column: "p", as: Int64?.self)
    }

    func addresses(subnet: String, in sql: any SQLDatabase) async throws -> Set<String> {
        Set(
            try await sql.select().column("ip_address").from("ip_allocations").where("subnet_id", .equal, subnet).all()
                .map { try $0.decode(column: "ip_address", as: String.self) }
        )
    }

    /// The allocations of these ports, in allocation order per port.
    func forPorts(_ ids: [String], in sql: any SQLDatabase) async throws -> [String: [Allocation]] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: [Allocation]] = [:]
        for chunk in ids.chunked(500) {
            let rows = try await sql.select().columns("subnet_id", "ip_address", "port_id").from("ip_allocations")
                .where("port_id", .in, Array(chunk)).orderBy("port_id").orderBy("position").orderBy("ip_address").all()
            for r in rows {
                let a = Allocation(
                    subnetID: try r.decode(column: "subnet_id", as: String.self),
                    ipAddress: try r.decode(column: "ip_address", as: String.self),
                    portID: try r.decode(column: "port_id", as: String.self)
                )
                out[a.portID, default: []].append(a)
            }
        }
        return out
    }

    /// Ids of the ports holding one of these addresses (`?fixed_ips=ip_address=…`) or any address of these subnets.
    func ports(addresses: [String], subnets: [String], in sql: any SQLDatabase) async throws -> [String] {
        let q = sql.select().distinct().column("port_id").from("ip_allocations")
        if !addresses.isEmpty { q.where("ip_address", .in, addresses) }
        if !subnets.isEmpty { q.where("subnet_id", .in, subnets) }
        return try await q.all().map { try $0.decode(column: "port_id", as: String.self) }
    }

    func removeForPort(_ port: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "ip_allocations").where("port_id", .equal, port).run()
    }

    func remove(port: String, subnet: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "ip_allocations").where("port_id", .equal, port).where("subnet_id", .equal, subnet).run()
    }

    func count(subnet: String, in sql: any SQLDatabase) async throws -> Int {
        Int(
            try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("ip_allocations")
                .where("subnet_id", .equal, subnet).first()?.decode(column: "n", as: Int64.self) ?? 0
        )
    }

    /// Ports of the subnet that are not the given owners' (DHCP and router interface ports do not block a subnet delete in neutron).
    func holders(subnet: String, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("port_id").from("ip_allocations").where("subnet_id", .equal, subnet).all()
            .map { try $0.decode(column: "port_id", as: String.self) }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
