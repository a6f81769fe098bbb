import HTTPTypes
import Hummingbird
import StratusCore

/// `POST /os-server-external-events` (what the Networking service calls when a port changes):
/// each event is answered on its own; the whole answer is 200 when all were taken, else 207.
/// Builds wait for ports by reading their status, so events are acknowledged, not queued.
struct EventRoutes {
    let service: ComputeService

    static let names: [(String, Int)] = [
        ("network-changed", 1), ("network-vif-plugged", 1), ("network-vif-unplugged", 1), ("network-vif-deleted", 1), ("volume-extended", 51),
        ("power-update", 76), ("accelerator-request-bound", 82), ("volume-reimaged", 93),
    ]

    func add(to routes: inout RouteTable) {
        routes.post("/v2.1/os-server-external-events") { request, ctx in try await create(request, ctx) }
    }

    func create(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try service.authorize(ctx, "os_compute_api:os-server-external-events:create")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let events = body["events"]?.arrayValue, !events.isEmpty else {
            throw ComputeError.badRequest(
                "Invalid input for field/attribute events. Value: \(ComputeError.pythonRepr(body["events"] ?? .null)). [] is too short"
            )
        }
        let allowed = Self.names.filter { ctx.atLeast($0.1) }.map(\.0)
        var out: [JSON] = []
        var allTaken = true
        for e in events {
            guard let name = e["name"]?.stringValue, allowed.contains(name), let uuid = e["server_uuid"]?.stringValue else {
                throw ComputeError.invalidField(
                    "name",
                    value: e["name"] ?? .null,
                    "\(ComputeError.pythonRepr(e["name"] ?? .null)) is not one of \(allowed)"
                )
            }
            var answer = e.objectValue ?? [:]
            answer["status"] = .string(e["status"]?.stringValue ?? "completed")
            let found = try await ServerLookup(service: service).find(uuid)
            if let (i, _) = found, i.deleted == 0 {
                if i.host == nil {
                    answer["code"] = 422
                    answer["status"] = "failed"
                    allTaken = false
                } else {
                    answer["code"] = 200
                }
            } else {
                answer["code"] = 404
                answer["status"] = "failed"
                allTaken = false
            }
            out.append(.object(answer))
        }
        return .json(["events": .array(out)], status: allTaken ? .ok : HTTPResponse.Status(code: 207))
    }
}
