import Hummingbird
import StratusCore

/// nova's version documents: `/` (200, both API versions) and `/v2.1`.
struct VersionRoutes {
    func add(to routes: inout RouteTable) {
        routes.get("/") { request, _ in
            let base = ComputeHTTP.base(request)
            return .json([
                "versions": [
                    [
                        "id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "", "updated": "2025-07-04T12:00:00Z",
                        "links": [["rel": "self", "href": .string("\(base)/v2/")]],
                    ],
                    Self.current(base, full: false),
                ]
            ])
        }
        routes.get("/v2.1") { request, _ in .json(["version": Self.current(ComputeHTTP.base(request), full: true)]) }
    }

    static func current(_ base: String, full: Bool) -> JSON {
        var v: [String: JSON] = [
            "id": "v2.1", "status": "CURRENT", "version": .string(ComputeVersions.maximum.description),
            "min_version": .string(ComputeVersions.minimum.description), "updated": "2013-07-23T11:33:21Z",
            "links": [["rel": "self", "href": .string("\(base)/v2.1/")]],
        ]
        if full {
            v["links"] = [
                ["rel": "self", "href": .string("\(base)/v2.1/")],
                ["rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"],
            ]
            v["media-types"] = [["base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"]]
        }
        return .object(v)
    }
}
