import Foundation
import SQLKit
import StratusStorage

/// `images`, `image_properties` and `image_tags`.
struct ImageStore: Sendable {
    /// A row of `images` as decoded (booleans are 0/1).
    private struct Row: Decodable {
        var id: String
        var name: String?
        var status: String
        var visibility: String
        var size: Int64?
        var virtualSize: Int64?
        var checksum: String?
        var osHashAlgo: String?
        var osHashValue: String?
        var diskFormat: String?
        var containerFormat: String?
        var minDisk: Int64
        var minRam: Int64
        var protected: Int64
        var osHidden: Int64
        var owner: String?
        var location: String?
        var createdAt: Int64
        var updatedAt: Int64

        var record: ImageRecord {
            ImageRecord(
                id: id,
                name: name,
                status: ImageStatus(rawValue: status) ?? .queued,
                visibility: Visibility(rawValue: visibility) ?? .shared,
                size: size,
                virtualSize: virtualSize,
                checksum: checksum,
                hashAlgo: osHashAlgo,
                hashValue: osHashValue,
                diskFormat: diskFormat,
                containerFormat: containerFormat,
                minDisk: minDisk,
                minRam: minRam,
                protected: protected != 0,
                hidden: osHidden != 0,
                owner: owner,
                location: location,
                createdAt: createdAt,
                updatedAt: updatedAt
            )
        }
    }

    static let columns = [
        "id", "name", "status", "visibility", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
        "disk_format", "container_format", "min_disk", "min_ram", "protected", "os_hidden", "owner", "location",
        "created_at", "updated_at",
    ]

    /// The image with its properties and tags, or nil. `lock`: in a write transaction, hold the
    /// row until it ends (PostgreSQL's `FOR UPDATE`; SQLite's writers are serialized anyway), so
    /// concurrent writers of one image queue instead of overwriting each other's changes.
    func find(_ id: String, lock: Bool = false, in sql: any SQLDatabase) async throws -> ImageRecord? {
        let q = sql.select().columns(Self.columns).from("images").where("id", .equal, id)
        if lock { q.for(.update) }
        guard let row = try await q.first() else { return nil }
        var image = try row.decode(Row.self).record
        try await attachDetails(to: &image, in: sql)
        return image
    }

    private func attachDetails(to image: inout ImageRecord, in sql: any SQLDatabase) async throws {
        var one = [image]
        try await attachDetails(to: &one, in: sql)
        image = one[0]
    }

    /// Loads the properties and tags of `images` in two queries.
    private func attachDetails(to images: inout [ImageRecord], in sql: any SQLDatabase) async throws {
        guard !images.isEmpty else { return }
        let ids = images.map(\.id)
        var index: [String: Int] = [:]
        for (i, image) in images.enumerated() { index[image.id] = i }
        for row in try await sql.select().columns("image_id", "name", "value").from("image_properties").where("image_id", .in, ids).all() {
            let id = try row.decode(column: "image_id", as: String.self)
            if let i = index[id] {
                images[i].properties[try row.decode(column: "name", as: String.self)] = try row.decode(column: "value", as: String.self)
            }
        }
        for row in try await sql.select().columns("image_id", "value").from("image_tags").where("image_id", .in, ids)
            .orderBy("created_at").orderBy("value").all()
        {
            let id = try row.decode(column: "image_id", as: String.self)
            if let i = index[id] { images[i].tags.append(try row.decode(column: "value", as: String.self)) }
        }
    }

    func insert(_ image: ImageRecord, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "images").columns(Self.columns).values(values(of: image)).run()
        try await replaceDetails(of: image, in: sql)
    }

    /// Writes what a caller may change (the metadata columns, properties and tags), never the
    /// status or the data's attributes, which only the data path writes.
    func updateMetadata(_ image: ImageRecord, in sql: any SQLDatabase) async throws {
        try await sql.update("images").set("name", to: SQLBind(image.name)).set("visibility", to: image.visibility.rawValue)
            .set("disk_format", to: SQLBind(image.diskFormat)).set("container_format", to: SQLBind(image.containerFormat))
            .set("min_disk", to: image.minDisk).set("min_ram", to: image.minRam).set("protected", to: image.protected ? 1 : 0)
            .set("os_hidden", to: image.hidden ? 1 : 0).set("owner", to: SQLBind(image.owner)).set("updated_at", to: image.updatedAt)
            .where("id", .equal, image.id).run()
        try await replaceDetails(of: image, in: sql)
    }

    /// Writes every attribute, properties and tags of `image` (the caller read it locked in this transaction).
    func update(_ image: ImageRecord, in sql: any SQLDatabase) async throws {
        let update = sql.update("images")
        for (column, value) in zip(Self.columns, values(of: image)).dropFirst() { update.set(SQLIdentifier(column), to: value) }
        try await update.where("id", .equal, image.id).run()
        try await replaceDetails(of: image, in: sql)
    }

    private func replaceDetails(of image: ImageRecord, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "image_properties").where("image_id", .equal, image.id).run()
        for (name, value) in image.properties {
            try await sql.insert(into: "image_properties").columns("image_id", "name", "value")
                .values(SQLBind(image.id), SQLBind(name), SQLBind(value)).run()
        }
        try await sql.delete(from: "image_tags").where("image_id", .equal, image.id).run()
        for (i, tag) in image.tags.enumerated() {
            try await sql.insert(into: "image_tags").columns("image_id", "value", "created_at")
                .values(SQLBind(image.id), SQLBind(tag), SQLBind(image.updatedAt * 1000 + Int64(i))).run()
        }
    }

    private func values(of i: ImageRecord) -> [any SQLExpression] {
        [
            SQLBind(i.id), SQLBind(i.name), SQLBind(i.status.rawValue), SQLBind(i.visibility.rawValue), SQLBind(i.size),
            SQLBind(i.virtualSize), SQLBind(i.checksum), SQLBind(i.hashAlgo), SQLBind(i.hashValue), SQLBind(i.diskFormat),
            SQLBind(i.containerFormat), SQLBind(i.minDisk), SQLBind(i.minRam), SQLBind(i.protected ? 1 : 0),
            SQLBind(i.hidden ? 1 : 0), SQLBind(i.owner), SQLBind(i.location), SQLBind(i.createdAt), SQLBind(i.updatedAt),
        ]
    }

    /// Moves the image from one of `from` to `to`; false when its status was none of them
    /// (another request got there first).
    func transition(_ id: String, from: [ImageStatus], to: ImageStatus, in sql: any SQLDatabase) async throws -> Bool {
        let rows = try await sql.update("images").set("status", to: to.rawValue).set("updated_at", to: Clock.now)
            .where("id", .equal, id).where("status", .in, from.map(\.rawValue)).returning("id").all()
        return !rows.isEmpty
    }

    /// Deletes the image; its id is kept in `deleted_images` so it is never reused (an image id
    /// names the same data for good, as in glance).
    func delete(_ id: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "images").where("id", .equal, id).run()
        try await sql.insert(into: "deleted_images").columns("id", "deleted_at").values(SQLBind(id), SQLBind(Clock.now)).run()
    }

    /// Whether `id` names an image, live or deleted.
    func idTaken(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        if try await sql.select().column("id").from("images").where("id", .equal, id).first() != nil { return true }
        return try await sql.select().column("id").from("deleted_images").where("id", .equal, id).first() != nil
    }

    /// The bytes of image data `owner` keeps (`user_storage_quota`), the image `except` left out.
    func usage(owner: String, except: String? = nil, in sql: any SQLDatabase) async throws -> Int64 {
        let q = sql.select().column(SQLRaw("CAST(COALESCE(SUM(size), 0) AS BIGINT)"), as: "total").from("images")
            .where("owner", .equal, owner).where("status", .in, ["active", "saving", "importing", "deactivated"])
        if let except { q.where("id", .notEqual, except) }
        return try await q.first()?.decode(column: "total", as: Int64.self) ?? 0
    }

    // MARK: - Lists

    /// The sort keys glance accepts, and the SQL each orders by (NULLs sort as the smallest value
    /// on both databases).
    static let sortExpressions: [String: String] = [
        "name": "COALESCE(images.name, '')", "status": "images.status", "container_format": "COALESCE(images.container_format, '')",
        "disk_format": "COALESCE(images.disk_format, '')", "size": "COALESCE(images.size, -1)", "id": "images.id",
        "created_at": "images.created_at", "updated_at": "images.updated_at", "visibility": "images.visibility",
        "min_disk": "images.min_disk", "min_ram": "images.min_ram", "owner": "COALESCE(images.owner, '')",
        "virtual_size": "COALESCE(images.virtual_size, -1)", "protected": "images.protected", "os_hidden": "images.os_hidden",
        "checksum": "COALESCE(images.checksum, '')",
    ]

    /// Thrown when the marker is not an image the caller can see.
    struct MarkerNotFound: Error {}

    /// One page of the images `query` selects, in its order.
    func list(_ query: ImageQuery, in sql: any SQLDatabase) async throws -> [ImageRecord] {
        let q = sql.select().columns(Self.columns.map { SQLColumn(SQLIdentifier($0), table: SQLIdentifier("images")) }).from("images")
        try await applyFilters(query, to: q)
        if let marker = query.marker {
            let probe = sql.select().columns(Self.columns.map { SQLColumn(SQLIdentifier($0), table: SQLIdentifier("images")) })
                .from("images").where(SQLColumn("id", table: "images"), .equal, SQLBind(marker))
            try await applyFilters(query, to: probe, marker: true)
            guard let row = try await probe.first() else { throw MarkerNotFound() }
            try await keyset(after: row, sort: query.sort, in: sql, query: q)
        }
        for s in query.sort {
            q.orderBy(
                SQLOrderBy(
                    expression: SQLRaw(Self.sortExpressions[s.key] ?? "images.id"),
                    direction: s.ascending ? SQLDirection.ascending : SQLDirection.descending
                )
            )
        }
        q.limit(query.limit)
        var images = try await q.all().map { try $0.decode(Row.self).record }
        try await attachDetails(to: &images, in: sql)
        return images
    }

    /// Rows strictly after the marker row in the sort order (a lexicographic keyset condition).
    private func keyset(
        after row: any SQLRow,
        sort: [(key: String, ascending: Bool)],
        in sql: any SQLDatabase,
        query q: SQLSelectBuilder
    ) async throws {
        // The marker's own sort values, computed by the database with the same expressions.
        let values = sql.select().from("images").where("id", .equal, SQLBind(try row.decode(column: "id", as: String.self)))
        for (i, s) in sort.enumerated() { values.column(SQLRaw(Self.sortExpressions[s.key] ?? "images.id"), as: "k\(i)") }
        guard let marker = try await values.first() else { throw MarkerNotFound() }
        var disjuncts: [SQLQueryString] = []
        for i in sort.indices {
            var parts: [SQLQueryString] = []
            for j in 0..<i {
                let value = try marker.decode(column: "k\(j)", as: SortValue.self)
                parts.append("\(unsafeRaw: Self.sortExpressions[sort[j].key] ?? "images.id") = \(bind: value)")
            }
            let value = try marker.decode(column: "k\(i)", as: SortValue.self)
            parts.append("\(unsafeRaw: Self.sortExpressions[sort[i].key] ?? "images.id") \(unsafeRaw: sort[i].ascending ? ">" : "<") \(bind: value)")
            disjuncts.append("(" + parts.joined(separator: " AND ") + ")")
        }
        q.where("(" + disjuncts.joined(separator: " OR ") + ")" as SQLQueryString)
    }

    /// A sort key's value as the database returned it.
    private enum SortValue: Codable, Sendable {
        case int(Int64)
        case text(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .text(try c.decode(String.self)) }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .text(let s): try c.encode(s)
            }
        }
    }

    private func applyFilters(_ query: ImageQuery, to q: SQLSelectBuilder, marker: Bool = false) async throws {
        let col = { (name: String) in SQLColumn(SQLIdentifier(name), table: SQLIdentifier("images")) }
        // Who sees what.
        let project: String?
        let admin: Bool
        switch query.viewer {
        case .admin(let p):
            project = p
            admin = true
        case .project(let p):
            project = p
            admin = false
        }
        if !admin {
            q.where { w in
                w.where(col("visibility"), .equal, SQLBind("public"))
                if let project {
                    w.orWhere(col("owner"), .equal, SQLBind(project))
                    let member: SQLQueryString =
                        query.memberStatus == "all"
                        ? "images.id IN (SELECT image_id FROM image_members WHERE member = \(bind: project))"
                        : "images.id IN (SELECT image_id FROM image_members WHERE member = \(bind: project) AND status = \(bind: query.memberStatus))"
                    w.orWhere { s in s.where(col("visibility"), .equal, SQLBind("shared")).where(member) }
                }
                if query.visibility == "community" || query.visibility == "all" {
                    w.orWhere(col("visibility"), .equal, SQLBind("community"))
                }
                return w
            }
        } else if query.memberStatus != "all", query.visibility == "shared", let project {
            // An admin asking for shared images with a member status sees those it is a member of, or owns.
            q.where { w in
                w.where(col("owner"), .equal, SQLBind(project))
                    .orWhere(
                        "images.id IN (SELECT image_id FROM image_members WHERE member = \(bind: project) AND status = \(bind: query.memberStatus))"
                            as SQLQueryString
                    )
            }
        }
        switch query.visibility {
        case nil:
            // Community images are listed only when asked for, except the caller's own.
            if let project {
                q.where { w in w.where(col("visibility"), .notEqual, SQLBind("community")).orWhere(col("owner"), .equal, SQLBind(project)) }
            } else {
                q.where(col("visibility"), .notEqual, SQLBind("community"))
            }
        case "all"?: break
        case let v?: q.where(col("visibility"), .equal, SQLBind(v))
        }
        if marker { return }
        if let ids = query.ids { q.where(col("id"), .in, SQLBind.group(ids.isEmpty ? [""] : ids)) }
        if let names = query.names { q.where(col("name"), .in, SQLBind.group(names.isEmpty ? [""] : names)) }
        if let statuses = query.statuses { q.where(col("status"), .in, SQLBind.group(statuses.isEmpty ? [""] : statuses)) }
        if let owners = query.owners { q.where(col("owner"), .in, SQLBind.group(owners.isEmpty ? [""] : owners)) }
        if let f = query.diskFormats { q.where(col("disk_format"), .in, SQLBind.group(f.isEmpty ? [""] : f)) }
        if let f = query.containerFormats { q.where(col("container_format"), .in, SQLBind.group(f.isEmpty ? [""] : f)) }
        for tag in query.tags {
            q.where("images.id IN (SELECT image_id FROM image_tags WHERE value = \(bind: tag))" as SQLQueryString)
        }
        if let min = query.sizeMin { q.where(col("size"), .greaterThanOrEqual, SQLBind(min)) }
        if let max = query.sizeMax { q.where(col("size"), .lessThanOrEqual, SQLBind(max)) }
        for (column, comparisons) in [("created_at", query.createdAt), ("updated_at", query.updatedAt)] {
            for c in comparisons {
                let op: SQLBinaryOperator =
                    switch c.op {
                    case .eq: .equal
                    case .neq: .notEqual
                    case .gt: .greaterThan
                    case .gte: .greaterThanOrEqual
                    case .lt: .lessThan
                    case .lte: .lessThanOrEqual
                    }
                q.where(col(column), op, SQLBind(c.value))
            }
        }
        if let p = query.protected { q.where(col("protected"), .equal, SQLBind(p ? 1 : 0)) }
        if let h = query.hidden { q.where(col("os_hidden"), .equal, SQLBind(h ? 1 : 0)) }
        for (name, values) in query.properties {
            q.where(
                "images.id IN (SELECT image_id FROM image_properties WHERE name = \(bind: name) AND value IN (\(binds: values)))"
                    as SQLQueryString
            )
        }
    }
}
