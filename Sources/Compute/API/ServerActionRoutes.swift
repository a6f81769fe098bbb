import Foundation
import Hummingbird
import SQLKit
import StratusCore
import StratusStorage

/// `POST /servers/{id}/action` (os-stop, os-start, reboot, forceDelete) and os-instance-actions.
/// The API checks the state machine, sets the task state (only if no other action got there
/// first), records the action and hands the work to the server's host.
struct ServerActionRoutes {
    let service: ComputeService

    func add(to routes: inout RouteTable) {
        routes.post("/v2.1/servers/:id/action") { request, ctx in try await action(request, ctx) }
        routes.get("/v2.1/servers/:id/os-instance-actions") { request, ctx in try await listActions(request, ctx) }
        routes.get("/v2.1/servers/:id/os-instance-actions/:req") { request, ctx in try await showAction(request, ctx) }
    }

    func action(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard case .object(let o) = body, let name = o.keys.sorted().first else { throw ComputeError.badRequest("Malformed request body") }
        let (i, _) = try await ServerRoutes(service: service).load(id, ctx)
        if i.deleted != 0 { throw ComputeError.instanceNotFound(id) }
        let target: [String: JSON] = ["project_id": .string(i.projectId), "user_id": .string(i.userId)]
        let act: InstanceAction
        switch name {
        case "os-stop":
            try service.authorize(ctx, "os_compute_api:servers:stop", target)
            act = .stop
        case "os-start":
            try service.authorize(ctx, "os_compute_api:servers:start", target)
            act = .start
        case "reboot":
            try service.authorize(ctx, "os_compute_api:servers:reboot", target)
            guard let type = o["reboot"]?["type"]?.stringValue else {
                throw ComputeError.badRequest(
                    "Invalid input for field/attribute reboot. Value: \(ComputeError.pythonRepr(o["reboot"] ?? .null)). 'type' is a required property"
                )
            }
            if !["HARD", "Hard", "hard", "SOFT", "Soft", "soft"].contains(type) {
                throw ComputeError.badRequest(
                    "Invalid input for field/attribute type. Value: \(type). '\(type)' is not one of ['HARD', 'Soft', 'Hard', 'SOFT', 'soft', 'hard']"
                )
            }
            act = type.uppercased() == "HARD" ? .rebootHard : .rebootSoft
        case "forceDelete":
            try service.authorize(ctx, "os_compute_api:os-deferred-delete:force", target)
            if let refusal = check(.forceDelete, i, ctx) { throw ComputeError.conflict(refusal.message) }
            try await ServerDeletion(service: service).delete(i, token: try ctx.requireCaller().token, requestID: ctx.requestID)
            return .empty(.accepted)
        default:
            throw ComputeError.badRequest("There is no such action: \(name)")
        }
        if let refusal = check(act, i, ctx) { throw ComputeError.conflict(refusal.message) }
        guard let host = i.host, let (_, db) = try await ServerLookup(service: service).cell(of: id) else {
            throw ComputeError.conflict("Instance \(id) is not ready")
        }
        let begin = InstanceState.begin(act)
        let now = ComputeTime.now()
        let caller = try ctx.requireCaller()
        let current = i.taskState
        let requestID = ctx.requestID
        let accepted = try await db.write { sql in
            guard try await InstanceStore().update(id, ["task_state": SQLBind(begin.task.rawValue)], expecting: [current], now: now, in: sql) else {
                return false
            }
            try await ActionStore().start(
                id,
                action: act.actionName,
                requestID: requestID,
                project: i.projectId,
                user: caller.userID,
                now: now,
                in: sql
            )
            return true
        }
        guard accepted else {
            let fresh = try await db.read { sql in try await InstanceStore().find(id, in: sql) } ?? i
            throw ComputeError.conflict(
                check(act, fresh, ctx)?.message
                    ?? "Cannot '\(act.conflictName)' instance \(id) while it is in task_state \(fresh.taskState ?? "None")"
            )
        }
        let api = service.api
        _ = try await api.write { sql in
            try await TaskQueue(dialect: api.dialect).enqueue(
                queue: "compute:\(host)",
                kind: act.taskKind,
                payload: ["instance": .string(id)],
                in: sql
            )
        }
        service.signal.notify("compute:\(host)")
        return .empty(.accepted)
    }

    func check(_ act: InstanceAction, _ i: Instance, _ ctx: StratusContext) -> InstanceStateRefusal? {
        InstanceState.check(
            act,
            uuid: i.uuid,
            vm: VMState(rawValue: i.vmState) ?? .error,
            task: i.taskState.flatMap(TaskState.init(rawValue:)),
            locked: i.locked && !service.allows(ctx, "context_is_admin"),
            launched: i.launchedAt != nil,
            hasHost: i.host != nil
        )
    }

    func listActions(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let (i, _) = try await ServerRoutes(service: service).load(id, ctx, allowDeleted: ctx.atLeast(21))
        try service.authorize(ctx, "os_compute_api:os-instance-actions:list", ["project_id": .string(i.projectId)])
        guard let (_, db) = try await ServerLookup(service: service).cell(of: id) else { return .json(["instanceActions": []]) }
        let actions = try await db.read { sql in try await ActionStore().list(id, in: sql) }
        return .json(["instanceActions": .array(actions.map { view($0, ctx) })])
    }

    func showAction(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let req = try ctx.parameters.require("req")
        let (i, _) = try await ServerRoutes(service: service).load(id, ctx, allowDeleted: ctx.atLeast(21))
        try service.authorize(ctx, "os_compute_api:os-instance-actions:show", ["project_id": .string(i.projectId)])
        guard let (_, db) = try await ServerLookup(service: service).cell(of: id),
            let a = try await db.read({ sql in try await ActionStore().find(id, requestID: req, in: sql) })
        else { throw ComputeError.notFound("Action \(req) not found") }
        var out = view(a, ctx).objectValue ?? [:]
        let admin = service.allows(ctx, "os_compute_api:os-instance-actions:events", ["project_id": .string(i.projectId)])
        if admin || ctx.atLeast(51) {
            let events = try await db.read { sql in try await ActionStore().events(a.id, in: sql) }
            out["events"] = .array(
                events.map { e in
                    var ev: [String: JSON] = [
                        "event": .string(e.event), "start_time": .string(e.startTime), "finish_time": .optional(e.finishTime),
                        "result": .optional(e.result),
                    ]
                    if admin { ev["traceback"] = .optional(e.traceback) }
                    if ctx.atLeast(62) {
                        ev["hostId"] = .string(e.host.map { Digest.sha224Hex(i.projectId + $0) } ?? "")
                        if admin { ev["host"] = .optional(e.host) }
                    }
                    if ctx.atLeast(84), admin { ev["details"] = .null }
                    return .object(ev)
                }
            )
        }
        return .json(["instanceAction": .object(out)])
    }

    func view(_ a: ActionStore.Action, _ ctx: StratusContext) -> JSON {
        var v: [String: JSON] = [
            "action": .string(a.action), "instance_uuid": .string(a.instanceUuid), "request_id": .string(a.requestId),
            "user_id": .string(a.userId), "project_id": .string(a.projectId), "start_time": .string(a.startTime), "message": .optional(a.message),
        ]
        if ctx.atLeast(58) { v["updated_at"] = .optional(a.updatedAt) }
        return .object(v)
    }
}

extension InstanceAction {
    /// The os-instance-actions name.
    var actionName: String {
        switch self {
        case .stop: "stop"
        case .start: "start"
        case .rebootSoft, .rebootHard: "reboot"
        case .delete, .forceDelete: "delete"
        }
    }

    /// The compute agent's task kind.
    var taskKind: String {
        switch self {
        case .stop: "stop"
        case .start: "start"
        case .rebootSoft: "reboot_soft"
        case .rebootHard: "reboot_hard"
        case .delete, .forceDelete: "delete"
        }
    }
}
