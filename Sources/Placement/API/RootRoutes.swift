import Hummingbird
import StratusCore

/// `/`: the version document (no token needed).
struct RootRoutes: Sendable {
    func add(to r: inout RouteTable) {
        r.get("/", root)
    }

    @Sendable func root(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        let range = PlacementVersions.range
        let version: JSON = [
            "id": "v1.0", "max_version": .string(range.maximum.description), "min_version": .string(range.minimum.description),
            "status": "CURRENT", "links": [["rel": "self", "href": ""]],
        ]
        return PlacementHTTP.json(["versions": [version]], ctx)
    }
}
