import Hummingbird
import SQLKit
import StratusCore

/// `/v2.0/<resources>/<id>/tags[/<tag>]` on every taggable resource. Changing tags needs the
/// right to update the resource and bumps its revision.
struct TagRoutes {
    let service: NetworkService

    func add(to routes: inout RouteTable) {
        for (path, kind) in ResourceKind.tagged {
            let base = "/v2.0/\(path)/{id}/tags"
            routes.get(base) { _, ctx in
                let id = try ctx.parameters.require("id")
                let tags = try await service.read { sql in
                    _ = try await service.visible(kind, id, ctx, in: sql)
                    return try await TagStore().tags([id], in: sql)[id] ?? []
                }
                return .json(["tags": .array(tags.map(JSON.string))])
            }
            routes.get(base + "/{tag}") { _, ctx in
                let id = try ctx.parameters.require("id")
                let tag = try ctx.parameters.require("tag")
                let found = try await service.read { sql in
                    _ = try await service.visible(kind, id, ctx, in: sql)
                    return try await TagStore().has(id, tag, in: sql)
                }
                guard found else { throw notFound(tag, kind, id) }
                return .empty()
            }
            routes.put(base) { request, ctx in
                let id = try ctx.parameters.require("id")
                let json = try await request.jsonBody(limit: ctx.bodyLimit)
                guard let list = json["tags"]?.arrayValue else { throw NetworkError.invalidBody("Invalid tags body") }
                let tags = try list.map { v -> String in
                    guard let s = v.stringValue else { throw NetworkError.invalidInput("'\(RequestRules.python(v))' is not a valid tag") }
                    return try Self.valid(s)
                }
                try await change(kind, id, ctx) { sql in try await TagStore().replace(id, tags, in: sql) }
                return .json(["tags": .array(Array(Set(tags)).sorted().map(JSON.string))])
            }
            routes.put(base + "/{tag}") { _, ctx in
                let id = try ctx.parameters.require("id")
                let tag = try Self.valid(try ctx.parameters.require("tag"))
                try await change(kind, id, ctx) { sql in try await TagStore().add(id, tag, in: sql) }
                return .empty(.created)
            }
            routes.delete(base) { _, ctx in
                let id = try ctx.parameters.require("id")
                try await change(kind, id, ctx) { sql in try await TagStore().remove(id, nil, in: sql) }
                return .empty()
            }
            routes.delete(base + "/{tag}") { _, ctx in
                let id = try ctx.parameters.require("id")
                let tag = try ctx.parameters.require("tag")
                try await change(kind, id, ctx) { sql in
                    guard try await TagStore().remove(id, tag, in: sql) else { throw notFound(tag, kind, id) }
                }
                return .empty()
            }
        }
    }

    static func valid(_ tag: String) throws -> String {
        guard !tag.isEmpty, tag.count <= 255, !tag.contains(",") else { throw NetworkError.invalidInput("'\(tag)' is not a valid tag") }
        return tag
    }

    func notFound(_ tag: String, _ kind: ResourceKind, _ id: String) -> OpenStackError {
        NetworkError.make(.notFound, "TagNotFound", "Tag \(tag) could not be found for \(kind.singular) \(id).")
    }

    func change(
        _ kind: ResourceKind,
        _ id: String,
        _ ctx: StratusContext,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Void
    ) async throws {
        try await service.write { sql in
            var r = try await service.visible(
                kind,
                id,
                ctx,
                lock: true,
                target: { kind == .subnet || kind == .port ? try await service.withNetworks([$0], ctx, in: sql)[0] : $0 },
                in: sql
            )
            if kind == .subnet || kind == .port { r = try await service.withNetworks([r], ctx, in: sql)[0] }
            try service.authorize(ctx, "update_\(kind.singular)", r, notFound: NetworkError.notFound(kind, id))
            try await body(sql)
            try await RecordStore(kind).touch(id, in: sql)
        }
    }
}
