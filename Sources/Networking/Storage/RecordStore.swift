import Foundation
import SQLKit
import StratusCore
import StratusStorage

#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes any resource kind's row as a record (attributes by API name), converting
/// each attribute to its column: booleans as 0/1, lists and dicts as JSON text.
struct RecordStore: Sendable {
    let kind: ResourceKind

    init(_ kind: ResourceKind) { self.kind = kind }

    /// A condition on a list query.
    enum Condition: Sendable {
        /// The attribute equals one of the values (neutron's repeated `?name=a&name=b`).
        case oneOf(ResourceKind.Attribute, [JSON])
        /// The record is visible to a project: owned by it, or matching one of the extra
        /// equality conditions (`shared = 1`, `external = 1`), or one of the given ids.
        case visible(project: String, orTrue: [String], orIDs: [String], orIn: [(String, [String])] = [])
        /// Every tag (`tags`), any tag (`tags-any`), and their negations.
        case tags(all: [String], any: [String], notAll: [String], notAny: [String])
        case idIn([String])
    }

    struct Sort: Sendable {
        var attribute: ResourceKind.Attribute
        var ascending: Bool
    }

    func insert(_ record: [String: JSON], in sql: any SQLDatabase) async throws {
        var columns: [String] = []
        var values: [any SQLExpression] = []
        for a in kind.attributes {
            columns.append(a.column)
            values.append(bind(record[a.name] ?? .null, a))
        }
        try await sql.insert(into: kind.table).columns(columns).values(values).run()
    }

    /// Sets the given attributes and bumps `revision_number` and `updated_at`.
    func update(_ id: String, _ changes: [String: JSON], in sql: any SQLDatabase) async throws {
        let q = sql.update(kind.table)
        for (name, value) in changes {
            guard let a = kind.attribute(name), name != "id", name != "revision_number" else { continue }
            q.set(SQLIdentifier(a.column), to: bind(value, a))
        }
        q.set(SQLIdentifier("revision_number"), to: SQLRaw("revision_number + 1"))
        if changes["updated_at"] == nil { q.set("updated_at", to: Timestamps.now()) }
        try await q.where("id", .equal, id).run()
    }

    /// Bumps the revision of a record whose related rows (tags, fixed IPs, rules) changed.
    func touch(_ id: String, in sql: any SQLDatabase) async throws {
        try await update(id, [:], in: sql)
    }

    func find(_ id: String, lock: Bool = false, in sql: any SQLDatabase) async throws -> [String: JSON]? {
        let q = sql.select().columns(kind.attributes.map { SQLIdentifier($0.column) }).from(kind.table).where("id", .equal, id)
        if lock { q.for(.update) }
        guard let row = try await q.first() else { return nil }
        return try decode(row)
    }

    func list(
        _ conditions: [Condition],
        sort: [Sort] = [],
        limit: Int? = nil,
        after marker: [String: JSON]? = nil,
        in sql: any SQLDatabase
    ) async throws -> [[String: JSON]] {
        let q = sql.select().columns(kind.attributes.map { SQLIdentifier($0.column) }).from(kind.table)
        for c in conditions { q.where(expression(c)) }
        let idAttribute = kind.attribute("id")!
        let keys =
            sort + (sort.contains { $0.attribute.name == "id" } ? [] : [Sort(attribute: idAttribute, ascending: sort.first?.ascending ?? true)])
        if let marker { q.where(after(marker, keys)) }
        for k in keys { q.orderBy(k.attribute.column, k.ascending ? .ascending : .descending) }
        if let limit { q.limit(limit) }
        return try await q.all().map(decode)
    }

    func count(_ conditions: [Condition], in sql: any SQLDatabase) async throws -> Int {
        let q = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(kind.table)
        for c in conditions { q.where(expression(c)) }
        return Int(try await q.first()?.decode(column: "n", as: Int64.self) ?? 0)
    }

    @discardableResult
    func delete(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        let gone = try await sql.delete(from: kind.table).where("id", .equal, id).returning("id").all()
        if kind.tagged { try await sql.delete(from: "tags").where("resource_id", .equal, id).run() }
        return !gone.isEmpty
    }

    // MARK: conditions

    private func expression(_ c: Condition) -> any SQLExpression {
        switch c {
        case .oneOf(let a, let values):
            let nulls = values.contains { $0.isNull }
            let binds = values.filter { !$0.isNull }.map { bind($0, a) }
            var parts: [any SQLExpression] = []
            if !binds.isEmpty { parts.append(SQLBinaryExpression(SQLIdentifier(a.column), .in, SQLGroupExpression(binds))) }
            if nulls { parts.append(SQLBinaryExpression(SQLIdentifier(a.column), .is, SQLLiteral.null)) }
            return parts.isEmpty ? SQLRaw("1 = 0") : SQLGroupExpression(ors(parts))
        case .visible(let project, let orTrue, let orIDs, let orIn):
            var parts: [any SQLExpression] = [SQLBinaryExpression(SQLIdentifier("project_id"), .equal, SQLBind(project))]
            for (column, ids) in orIn where !ids.isEmpty {
                parts.append(SQLBinaryExpression(SQLIdentifier(column), .in, SQLGroupExpression(ids.map(SQLBind.init))))
            }
            for column in orTrue { parts.append(SQLBinaryExpression(SQLIdentifier(column), .equal, SQLLiteral.numeric("1"))) }
            if !orIDs.isEmpty { parts.append(SQLBinaryExpression(SQLIdentifier("id"), .in, SQLGroupExpression(orIDs.map(SQLBind.init)))) }
            return SQLGroupExpression(ors(parts))
        case .idIn(let ids):
            return ids.isEmpty ? SQLRaw("1 = 0") : SQLBinaryExpression(SQLIdentifier("id"), .in, SQLGroupExpression(ids.map(SQLBind.init)))
        case .tags(let all, let any, let notAll, let notAny):
            var parts: [any SQLExpression] = []
            let id = SQLColumn("id", table: kind.table)
            func having(_ tags: [String], count: Int) -> any SQLExpression {
                // ids with at least `count` of the tags.
                SQLSubquery.select { q in
                    q.column("resource_id").from("tags").where("tag", .in, tags).groupBy("resource_id")
                        .having(SQLFunction("COUNT", args: SQLLiteral.all), .greaterThanOrEqual, SQLBind(count))
                }
            }
            if !all.isEmpty { parts.append(SQLBinaryExpression(id, .in, SQLGroupExpression(having(all, count: all.count)))) }
            if !any.isEmpty { parts.append(SQLBinaryExpression(id, .in, SQLGroupExpression(having(any, count: 1)))) }
            if !notAll.isEmpty { parts.append(SQLBinaryExpression(id, .notIn, SQLGroupExpression(having(notAll, count: notAll.count)))) }
            if !notAny.isEmpty { parts.append(SQLBinaryExpression(id, .notIn, SQLGroupExpression(having(notAny, count: 1)))) }
            return parts.isEmpty ? SQLRaw("1 = 1") : SQLGroupExpression(ands(parts))
        }
    }

    /// Keyset pagination: rows after the marker in the sort order (`k1 > v1 OR (k1 = v1 AND k2 > v2) …`).
    private func after(_ marker: [String: JSON], _ keys: [Sort]) -> any SQLExpression {
        var alternatives: [any SQLExpression] = []
        for i in keys.indices {
            var parts: [any SQLExpression] = []
            for k in keys[..<i] {
                parts.append(equalsOrBothNull(k.attribute, marker[k.attribute.name] ?? .null))
            }
            let k = keys[i]
            let v = marker[k.attribute.name] ?? .null
            if v.isNull {
                // NULLs sort first ascending on SQLite and last on PostgreSQL; neutron's sort keys
                // are mostly non-null, so a NULL marker value only orders by the keys after it.
                continue
            }
            parts.append(SQLBinaryExpression(SQLIdentifier(k.attribute.column), k.ascending ? .greaterThan : .lessThan, bind(v, k.attribute)))
            alternatives.append(SQLGroupExpression(ands(parts)))
        }
        return alternatives.isEmpty ? SQLRaw("1 = 0") : SQLGroupExpression(ors(alternatives))
    }

    private func equalsOrBothNull(_ a: ResourceKind.Attribute, _ v: JSON) -> any SQLExpression {
        v.isNull
            ? SQLBinaryExpression(SQLIdentifier(a.column), .is, SQLLiteral.null)
            : SQLBinaryExpression(SQLIdentifier(a.column), .equal, bind(v, a))
    }

    private func ors(_ parts: [any SQLExpression]) -> any SQLExpression {
        parts.dropFirst().reduce(parts[0]) { SQLBinaryExpression($0, .or, $1) }
    }

    private func ands(_ parts: [any SQLExpression]) -> any SQLExpression {
        parts.isEmpty ? SQLRaw("1 = 1") : parts.dropFirst().reduce(parts[0]) { SQLBinaryExpression($0, .and, $1) }
    }

    // MARK: conversion

    private func bind(_ value: JSON, _ a: ResourceKind.Attribute) -> any SQLExpression {
        switch (a.type, value) {
        case (_, .null): return SQLLiteral.null
        case (.bool, .bool(let b)): return SQLBind(Int64(b ? 1 : 0))
        case (.bool, .string(let s)): return SQLBind(Int64(["true", "1"].contains(s.lowercased()) ? 1 : 0))
        case (.int, .int(let i)): return SQLBind(i)
        case (.int, .string(let s)): return SQLBind(Int64(s) ?? -1)
        case (.json, let v): return SQLBind(v.serialized())
        case (_, .string(let s)): return SQLBind(s)
        case (_, let v): return SQLBind(v.serialized())
        }
    }

    private func decode(_ row: any SQLRow) throws -> [String: JSON] {
        var out: [String: JSON] = [:]
        for a in kind.attributes {
            switch a.type {
            case .string: out[a.name] = .optional(try row.decode(column: a.column, as: String?.self))
            case .int: out[a.name] = try row.decode(column: a.column, as: Int64?.self).map(JSON.int) ?? .null
            case .bool: out[a.name] = try row.decode(column: a.column, as: Int64?.self).map { .bool($0 != 0) } ?? .null
            case .json:
                let text = try row.decode(column: a.column, as: String?.self)
                out[a.name] = text.flatMap { try? JSON.parse(Array($0.utf8)) } ?? .null
            }
        }
        return out
    }
}

/// Neutron's timestamps: UTC to the second, `2024-01-31T12:00:00Z`.
enum Timestamps {
    static func now() -> String { format(Date()) }

    static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
            Int(tm.tm_year) + 1900,
            Int(tm.tm_mon) + 1,
            Int(tm.tm_mday),
            Int(tm.tm_hour),
            Int(tm.tm_min),
            Int(tm.tm_sec)
        )
    }

    static func parse(_ s: String) -> Date? {
        let parts = s.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int32($0) }
        guard parts.count == 6 else { return nil }
        var tm = tm()
        tm.tm_year = parts[0] - 1900
        tm.tm_mon = parts[1] - 1
        tm.tm_mday = parts[2]
        tm.tm_hour = parts[3]
        tm.tm_min = parts[4]
        tm.tm_sec = parts[5]
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }
}
