import Hummingbird
import StratusCore

/// `GET /v3/OS-REVOKE/events`: the revocation events still in force (keystone's OS-REVOKE
/// extension; services and auditors poll it), optionally only those recorded after `since`.
struct RevocationRoutes: Sendable {
    let service: IdentityService
    let revocations = RevocationStore()

    func add(to r: inout RouteTable) {
        r.get("/v3/OS-REVOKE/events", list)
    }

    /// GET the events, oldest first: 200. 400 a `since` that is not a time; 403 by policy.
    @Sendable func list(_ req: Request, _ ctx: StratusContext) async throws -> Response {
        _ = try await service.authorize(req, IdentityPolicy.listRevokeEvents)
        let text = req.query("since")
        let since = text.flatMap(Clock.parse)
        if let text, since == nil { throw OpenStackError.badRequest("invalidate date format \(text)") }
        let events = try await service.read { sql in try await revocations.list(recordedAfter: since, in: sql) }
        return .json([
            "events": .array(events.map(Self.json)),
            "links": ["self": .string(req.baseURL + "/v3/OS-REVOKE/events"), "previous": nil, "next": nil],
        ])
    }

    /// keystone's event document: the ids that are set, and its times at whole seconds.
    static func json(_ event: RevocationStore.StoredEvent) -> JSON {
        var out: [String: JSON] = [
            "issued_before": .string(Clock.iso(micros: event.issuedBefore - event.issuedBefore % 1_000_000)),
            "revoked_at": .string(Clock.iso(micros: event.revokedAt - event.revokedAt % 1_000_000)),
        ]
        if let v = event.userID { out["user_id"] = .string(v) }
        if let v = event.projectID { out["project_id"] = .string(v) }
        if let v = event.auditID { out["audit_id"] = .string(v) }
        if let v = event.trustID { out["OS-TRUST:trust_id"] = .string(v) }
        return .object(out)
    }
}
