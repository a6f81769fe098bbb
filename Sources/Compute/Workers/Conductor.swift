import Foundation
import Logging
import SQLKit
import StratusCore
import StratusStorage

/// nova-conductor's build path: takes `build` and `reschedule` tasks, asks the scheduler
/// (a `select_destinations` task it waits on), then moves the server into a cell and hands it
/// to its host. Write order of a first build: (1) the instance into the cell database, (2) in
/// one API transaction: the mapping's cell, the build request's removal and the host's task.
/// A crash between (1) and (2) leaves the conductor task unfinished: it is redelivered, finds
/// the instance already in the cell and completes (2). A server that cannot be scheduled goes
/// to cell0 in ERROR with "No valid host was found".
struct Conductor: Sendable {
    let service: ComputeService
    let owner: String

    func run() async {
        let worker = TaskWorker(
            db: service.api,
            signal: service.signal,
            queue: "conductor",
            owner: owner,
            lease: service.settings.leaseSeconds,
            parallel: 32,
            logger: service.logger
        )
        await worker.run { task in
            try await build(task)
            return .remove
        }
    }

    func build(_ task: TaskQueue.Entry) async throws {
        let p = task.body
        guard let uuid = p["instance"]?.stringValue else { return }
        let api = service.api
        guard let mapping = try await api.read({ sql in try await CellStore().instanceMapping(uuid, in: sql) }) else { return }
        var instance: Instance
        let first = task.kind == "build"
        if first {
            guard let text = try await api.read({ sql in try await CellStore().buildRequest(uuid, in: sql) }), let i = Instance.decoded(text) else {
                return
            }
            instance = i
        } else {
            guard let (i, _) = try await ServerLookup(service: service).find(uuid), i.deleted == 0, i.taskState == TaskState.scheduling.rawValue
            else {
                return
            }
            instance = i
        }
        if mapping.queuedForDelete { return }
        let choice = try await Scheduler.ask(
            service: service,
            instance: instance,
            exclude: (p["exclude"]?.arrayValue ?? []).compactMap(\.stringValue)
        )
        let now = ComputeTime.now()
        guard let host = choice.host else {
            try await noValidHost(
                instance,
                first: first,
                message: choice.error ?? "No valid host was found. ",
                requestID: p["request_id"]?.stringValue ?? ""
            )
            return
        }
        let (cell, db) = try await service.primaryCell()
        if first {
            instance.host = host
            instance.node = choice.node
            if instance.availabilityZone == nil { instance.availabilityZone = service.settings.availabilityZone }
            instance.taskState = TaskState.spawning.rawValue
            let placed = instance
            let requestID = p["request_id"]?.stringValue ?? ""
            try await db.write { sql in
                let stored = try await InstanceStore().insert(placed, in: sql)
                if stored.host != host {
                    _ = try await InstanceStore().update(uuid, ["host": SQLBind(host), "node": SQLBind(choice.node)], now: now, in: sql)
                }
                if try await ActionStore().latest(uuid, action: "create", in: sql) == nil {
                    try await ActionStore().start(
                        uuid,
                        action: "create",
                        requestID: requestID,
                        project: placed.projectId,
                        user: placed.userId,
                        now: placed.createdAt,
                        in: sql
                    )
                }
            }
        } else {
            try await db.write { sql in
                _ = try await InstanceStore().update(
                    uuid,
                    ["host": SQLBind(host), "node": SQLBind(choice.node), "task_state": SQLBind(TaskState.spawning.rawValue)],
                    now: now,
                    in: sql
                )
            }
        }
        let handed = try await api.write { sql -> Bool in
            if first {
                guard try await CellStore().deleteBuildRequest(uuid, in: sql) else { return false }
                try await CellStore().setCell(uuid, cell: cell.id, in: sql)
            }
            try await TaskQueue(dialect: api.dialect).enqueue(
                queue: "compute:\(host)",
                kind: "build",
                payload: ["instance": .string(uuid), "token": p["token"] ?? .null, "attempt": p["attempt"] ?? 1, "exclude": p["exclude"] ?? []],
                in: sql
            )
            return true
        }
        if handed {
            service.signal.notify("compute:\(host)")
        } else {
            // Deleted while it was being scheduled: undo the placement.
            try await db.write { sql in try await InstanceStore().markDeleted(uuid, now: now, in: sql) }
            _ = try? await service.clients.placement.send(.delete, "/allocations/\(uuid)")
        }
    }

    /// nova's NoValidHost: the server goes to cell0 (first build) or stays in its cell, in ERROR with the fault.
    func noValidHost(_ i: Instance, first: Bool, message: String, requestID: String) async throws {
        let now = ComputeTime.now()
        let uuid = i.uuid
        if first {
            let (cell0, db) = try await service.cell0()
            var errored = i
            errored.vmState = VMState.error.rawValue
            errored.taskState = nil
            let record = errored
            try await db.write { sql in
                _ = try await InstanceStore().insert(record, in: sql)
                if try await ActionStore().latest(uuid, action: "create", in: sql) == nil {
                    try await ActionStore().start(
                        uuid,
                        action: "create",
                        requestID: requestID,
                        project: record.projectId,
                        user: record.userId,
                        now: record.createdAt,
                        in: sql
                    )
                    try await ActionStore().record(
                        uuid,
                        action: "create",
                        event: "conductor_schedule_and_build_instances",
                        host: nil,
                        failed: true,
                        start: record.createdAt,
                        now: now,
                        in: sql
                    )
                }
                if try await InstanceStore().faults([uuid], in: sql)[uuid] == nil {
                    try await InstanceStore().addFault(uuid, code: 500, message: message, details: message, now: now, in: sql)
                }
            }
            let api = service.api
            let kept = try await api.write { sql -> Bool in
                guard try await CellStore().deleteBuildRequest(uuid, in: sql) else { return false }
                try await CellStore().setCell(uuid, cell: cell0.id, in: sql)
                return true
            }
            if !kept { try await db.write { sql in try await InstanceStore().markDeleted(uuid, now: now, in: sql) } }
            return
        }
        guard let (_, db) = try await ServerLookup(service: service).cell(of: uuid) else { return }
        let fault = "Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance \(uuid)."
        try await db.write { sql in
            _ = try await InstanceStore().update(
                uuid,
                ["vm_state": SQLBind(VMState.error.rawValue), "task_state": SQLLiteral.null],
                now: now,
                in: sql
            )
            try await InstanceStore().addFault(uuid, code: 500, message: fault, details: message, now: now, in: sql)
        }
    }
}
