import Foundation
import SQLKit
import StratusCore
import StratusStorage

/// The API's half of a compute task: what the cell records when a host reports an outcome.
/// A failed build gives back its allocation and goes to the conductor for another host (up to
/// `[scheduler] max_attempts`), then to ERROR with its fault.
struct ComputeResults {
    let service: ComputeService

    func apply(_ task: TaskQueue.Entry, failed: Bool, result: JSON, host: String) async throws {
        let payload = task.body
        guard let uuid = payload["instance"]?.stringValue, let (_, db) = try await ServerLookup(service: service).cell(of: uuid) else { return }
        let now = ComputeTime.now()
        let store = InstanceStore()
        let started = task.createdAt
        let startStamp = ComputeTime.stamp(Date(timeIntervalSince1970: started))
        switch task.kind {
        case "build":
            if !failed {
                let info = result["network_info"] ?? []
                var values: [String: any SQLExpression] = [
                    "vm_state": SQLBind(VMState.active.rawValue), "task_state": SQLLiteral.null, "power_state": SQLBind(1),
                    "launched_at": SQLBind(now), "network_info": SQLBind(info.serialized()),
                ]
                if let groups = result["security_groups"] { values["security_groups"] = SQLBind(groups.serialized()) }
                let fields = values
                try await db.write { sql in
                    _ = try await store.update(
                        uuid,
                        fields,
                        expecting: [TaskState.scheduling.rawValue, TaskState.networking.rawValue, TaskState.spawning.rawValue, nil],
                        now: now,
                        in: sql
                    )
                    try await ActionStore().record(
                        uuid,
                        action: "create",
                        event: "compute__do_build_and_run_instance",
                        host: host,
                        failed: false,
                        start: startStamp,
                        now: now,
                        in: sql
                    )
                }
                return
            }
            let message = result["message"]?.stringValue ?? "Build of instance \(uuid) failed."
            _ = try? await service.clients.placement.send(.delete, "/allocations/\(uuid)")
            let attempt = Int(payload["attempt"]?.intValue ?? 1)
            let exclude = (payload["exclude"]?.arrayValue ?? []) + [.string(host)]
            let retry = result["reschedule"]?.boolValue ?? true
            if retry, attempt < service.settings.maxAttempts {
                try await db.write { sql in
                    _ = try await store.update(
                        uuid,
                        ["task_state": SQLBind(TaskState.scheduling.rawValue), "host": SQLLiteral.null, "node": SQLLiteral.null],
                        now: now,
                        in: sql
                    )
                    try await ActionStore().record(
                        uuid,
                        action: "create",
                        event: "compute__do_build_and_run_instance",
                        host: host,
                        failed: true,
                        start: startStamp,
                        now: now,
                        in: sql
                    )
                }
                let api = service.api
                _ = try await api.write { sql in
                    try await TaskQueue(dialect: api.dialect).enqueue(
                        queue: "conductor",
                        kind: "reschedule",
                        payload: [
                            "instance": .string(uuid), "token": payload["token"] ?? .null, "attempt": .int(Int64(attempt + 1)),
                            "exclude": .array(exclude),
                        ],
                        in: sql
                    )
                }
                service.signal.notify("conductor")
                return
            }
            let fault =
                attempt > 1
                ? "Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance \(uuid)."
                : message
            try await db.write { sql in
                _ = try await store.update(uuid, ["vm_state": SQLBind(VMState.error.rawValue), "task_state": SQLLiteral.null], now: now, in: sql)
                try await store.addFault(uuid, code: 500, message: fault, details: message, now: now, in: sql)
                try await ActionStore().record(
                    uuid,
                    action: "create",
                    event: "compute__do_build_and_run_instance",
                    host: host,
                    failed: true,
                    start: startStamp,
                    now: now,
                    in: sql
                )
            }
        case "delete":
            try await db.write { sql in
                try await store.markDeleted(uuid, now: now, in: sql)
                try await ActionStore().record(
                    uuid,
                    action: "delete",
                    event: "compute_terminate_instance",
                    host: host,
                    failed: failed,
                    start: startStamp,
                    now: now,
                    in: sql
                )
            }
            _ = try? await service.clients.placement.send(.delete, "/allocations/\(uuid)")
        default:
            guard
                let act = [("stop", InstanceAction.stop), ("start", .start), ("reboot_soft", .rebootSoft), ("reboot_hard", .rebootHard)]
                    .first(where: { $0.0 == task.kind })?.1
            else { return }
            let end = InstanceState.finish(act)
            let event = ["stop": "compute_stop_instance", "start": "compute_start_instance"][task.kind] ?? "compute_reboot_instance"
            try await db.write { sql in
                if failed {
                    _ = try await store.update(uuid, ["task_state": SQLLiteral.null], now: now, in: sql)
                } else {
                    _ = try await store.update(
                        uuid,
                        ["vm_state": SQLBind(end.vm.rawValue), "task_state": SQLLiteral.null, "power_state": SQLBind(Int64(end.power.rawValue))],
                        now: now,
                        in: sql
                    )
                }
                try await ActionStore().record(
                    uuid,
                    action: act.actionName,
                    event: event,
                    host: host,
                    failed: failed,
                    start: startStamp,
                    now: now,
                    in: sql
                )
            }
        }
    }
}
