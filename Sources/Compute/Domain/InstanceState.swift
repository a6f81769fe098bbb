import Foundation

/// nova's `vm_state` (objects/fields.py `InstanceState`): the stable state a user expects when no
/// task runs. Raw values are the strings stored in `instances.vm_state` and shown as `OS-EXT-STS:vm_state`.
public enum VMState: String, CaseIterable, Sendable {
    case active, building, paused, suspended, stopped, rescued, resized
    case softDeleted = "soft-delete"
    case deleted, error, shelved
    case shelvedOffloaded = "shelved_offloaded"
}

/// nova's `task_state` (objects/fields.py `InstanceTaskState`): what is happening to the instance now,
/// `nil` (SQL NULL, JSON null) when nothing is.
public enum TaskState: String, CaseIterable, Sendable {
    case scheduling, networking, spawning, pausing, unpausing, suspending, resuming, rescuing, unrescuing
    case blockDeviceMapping = "block_device_mapping"
    case imageSnapshot = "image_snapshot"
    case imageSnapshotPending = "image_snapshot_pending"
    case imagePendingUpload = "image_pending_upload"
    case imageUploading = "image_uploading"
    case imageBackup = "image_backup"
    case updatingPassword = "updating_password"
    case resizePrep = "resize_prep"
    case resizeMigrating = "resize_migrating"
    case resizeMigrated = "resize_migrated"
    case resizeFinish = "resize_finish"
    case resizeReverting = "resize_reverting"
    case resizeConfirming = "resize_confirming"
    case rebooting
    case rebootPending = "reboot_pending"
    case rebootStarted = "reboot_started"
    case rebootingHard = "rebooting_hard"
    case rebootPendingHard = "reboot_pending_hard"
    case rebootStartedHard = "reboot_started_hard"
    case poweringOff = "powering-off"
    case poweringOn = "powering-on"
    case rebuilding
    case rebuildBlockDeviceMapping = "rebuild_block_device_mapping"
    case rebuildSpawning = "rebuild_spawning"
    case migrating, deleting, restoring, shelving, unshelving
    case softDeleting = "soft-deleting"
    case shelvingImagePendingUpload = "shelving_image_pending_upload"
    case shelvingImageUploading = "shelving_image_uploading"
    case shelvingOffloading = "shelving_offloading"
}

/// nova's `power_state`: what the hypervisor last reported, stored and shown (`OS-EXT-STS:power_state`)
/// as the index into `InstancePowerState.ALL`; indexes 2 and 5 are unused.
public enum PowerState: Int, CaseIterable, Sendable {
    case noState = 0
    case running = 1
    case paused = 3
    case shutdown = 4
    case crashed = 6
    case suspended = 7

    /// nova's name for the state (`InstancePowerState`), as in notifications: NOSTATE is `pending`.
    public var name: String {
        switch self {
        case .noState: "pending"
        case .running: "running"
        case .paused: "paused"
        case .shutdown: "shutdown"
        case .crashed: "crashed"
        case .suspended: "suspended"
        }
    }
}

/// A state-changing server action whose admission nova checks against vm_state/task_state.
enum InstanceAction: Sendable, CaseIterable {
    case stop, start
    /// `{"reboot":{"type":"SOFT"}}`. nova admits it only for ACTIVE with no task, so a soft reboot of a
    /// stopped/paused/suspended/errored server is a 409, never silently upgraded. The upgrade to hard
    /// happens later, in the libvirt driver: a guest that ignores the ACPI shutdown within
    /// `[libvirt] wait_soft_reboot_seconds` (120) is hard rebooted, and the task states stay the soft ones.
    case rebootSoft
    case rebootHard
    case delete
    /// `{"forceDelete": null}` (os-deferred-delete): admitted in every state, only the lock applies.
    case forceDelete

    /// The action name nova's API puts in the 409 text (`common.raise_http_conflict_for_instance_invalid_state`).
    /// forceDelete never gets there (no state is refused); its compute API method name is given.
    var conflictName: String {
        switch self {
        case .stop: "stop"
        case .start: "start"
        case .rebootSoft, .rebootHard: "reboot"
        case .delete: "delete"
        case .forceDelete: "force_delete"
        }
    }

    /// The task states the action passes through, in order: the API sets the first when it accepts the
    /// action, the compute host the others (manager.reboot_instance: pending, then started).
    var taskSteps: [TaskState] {
        switch self {
        case .stop: [.poweringOff]
        case .start: [.poweringOn]
        case .rebootSoft: [.rebooting, .rebootPending, .rebootStarted]
        case .rebootHard: [.rebootingHard, .rebootPendingHard, .rebootStartedHard]
        case .delete, .forceDelete: [.deleting]
        }
    }
}

/// A 409 refusal of an instance action, with nova's exact message.
struct InstanceStateRefusal: Error, Equatable, Sendable {
    enum Reason: Equatable, Sendable {
        /// `InstanceIsLocked` (the caller is not admin).
        case locked
        /// `InstanceNotReady`: no `instance.host` (stop, start).
        case notReady
        /// `InstanceInvalidState` turned into the API's conflict text.
        case invalidState
    }

    var reason: Reason
    var message: String
}

/// nova's instance state machine as the API sees it: the `status` mapping (`common._STATE_MAP`), the
/// `status` list filter, and the `check_instance_state` admission rules of stop, start, reboot and delete.
enum InstanceState {
    private typealias StatusMap = (default: String, tasks: [TaskState: String])

    private static let rebootSoft: [TaskState] = [.rebooting, .rebootPending, .rebootStarted]
    private static let rebootHard: [TaskState] = [.rebootingHard, .rebootPendingHard, .rebootStartedHard]
    private static let rebuild: [TaskState] = [.rebuilding, .rebuildBlockDeviceMapping, .rebuildSpawning]
    private static let resize: [TaskState] = [.resizePrep, .resizeMigrating, .resizeMigrated, .resizeFinish]

    private static func tasks(_ groups: [([TaskState], String)]) -> [TaskState: String] {
        var map: [TaskState: String] = [:]
        for (states, status) in groups { for s in states { map[s] = status } }
        return map
    }

    private static let statusMap: [VMState: StatusMap] = [
        .active: (
            "ACTIVE",
            tasks([
                (rebootSoft, "REBOOT"), (rebootHard, "HARD_REBOOT"), ([.updatingPassword], "PASSWORD"), (rebuild, "REBUILD"),
                ([.migrating], "MIGRATING"), (resize, "RESIZE"),
            ])
        ),
        .building: ("BUILD", [:]),
        .stopped: ("SHUTOFF", tasks([(resize, "RESIZE"), (rebuild, "REBUILD")])),
        .resized: ("VERIFY_RESIZE", [.resizeReverting: "REVERT_RESIZE"]),
        .paused: ("PAUSED", [.migrating: "MIGRATING"]),
        .suspended: ("SUSPENDED", [:]),
        .rescued: ("RESCUE", [:]),
        .error: ("ERROR", tasks([(rebuild, "REBUILD")])),
        .deleted: ("DELETED", [:]),
        .softDeleted: ("SOFT_DELETED", [:]),
        .shelved: ("SHELVED", [:]),
        .shelvedOffloaded: ("SHELVED_OFFLOADED", [:]),
    ]

    /// The API `status` of a server: the vm_state's default unless the task state overrides it.
    static func status(vm: VMState, task: TaskState?) -> String {
        guard let map = statusMap[vm] else { return "UNKNOWN" }
        return task.flatMap { map.tasks[$0] } ?? map.default
    }

    /// `status` from the stored strings: an unknown vm_state gives `UNKNOWN` (nova logs "Bad upgrade or
    /// db corrupted?"), an unknown task_state the vm_state's default.
    static func status(vm: String, task: String?) -> String {
        guard let vm = VMState(rawValue: vm) else { return "UNKNOWN" }
        return status(vm: vm, task: task.flatMap(TaskState.init(rawValue:)))
    }

    /// What a `status=` list filter selects (`common.task_and_vm_state_from_status`).
    struct StatusFilter: Equatable, Sendable {
        /// `vm_state IN (...)`, sorted by raw value as nova sorts them.
        var vmStates: [VMState]
        /// `task_state IN (...)`, sorted by raw value; `nil` when a matched status is some vm_state's
        /// default, so `status=ACTIVE` also lists active servers that are rebooting.
        var taskStates: [TaskState]?
    }

    /// The 400 nova gives from 2.38 when no status matched; before 2.38 the list is just empty.
    static let invalidStatusMessage = "Invalid status value"

    /// The filter for the `status` query values (case-insensitive, several allowed), or nil if none of
    /// them is a status nova maps to.
    static func filter(forStatuses statuses: [String]) -> StatusFilter? {
        let wanted = Set(statuses.map { $0.lowercased() })
        var vms: Set<VMState> = []
        var tasks: Set<TaskState> = []
        var matchedDefault = false
        for (vm, map) in statusMap {
            if wanted.contains(map.default.lowercased()) {
                vms.insert(vm)
                matchedDefault = true
            }
            for (task, status) in map.tasks where wanted.contains(status.lowercased()) {
                vms.insert(vm)
                tasks.insert(task)
            }
        }
        guard !vms.isEmpty else { return nil }
        let taskStates = matchedDefault ? nil : tasks.sorted { $0.rawValue < $1.rawValue }
        return StatusFilter(vmStates: vms.sorted { $0.rawValue < $1.rawValue }, taskStates: taskStates)
    }
}

// MARK: - Admission and transitions of stop, start, reboot, delete (nova/compute/api.py)

extension InstanceState {
    /// One `check_instance_state` decorator: nil sets are "any".
    private struct Admission {
        var vm: Set<VMState>?
        var task: Set<TaskState?>?
        var mustHaveLaunched: Bool
        /// `check_instance_host`: stop and start need `instance.host`.
        var needsHost: Bool
    }

    /// `task_states.ALLOW_REBOOT`: the task states a hard reboot may interrupt.
    private static let allowHardReboot: Set<TaskState?> = [
        nil, .rebooting, .rebootPending, .rebootStarted, .resuming, .rebootingHard, .unpausing, .pausing, .suspending,
    ]

    private static func admission(_ action: InstanceAction) -> Admission {
        switch action {
        case .stop: Admission(vm: [.active, .error], task: [nil], mustHaveLaunched: true, needsHost: true)
        case .start: Admission(vm: [.stopped], task: [nil], mustHaveLaunched: true, needsHost: true)
        case .rebootSoft: Admission(vm: [.active], task: [nil], mustHaveLaunched: true, needsHost: false)
        case .rebootHard:
            Admission(
                vm: [.active, .stopped, .paused, .suspended, .error],
                task: allowHardReboot,
                mustHaveLaunched: true,
                needsHost: false
            )
        case .delete, .forceDelete: Admission(vm: nil, task: nil, mustHaveLaunched: false, needsHost: false)
        }
    }

    /// Whether nova admits `action` on the server `uuid`; nil if it does, else the 409 with nova's text.
    /// Checks run in nova's order: lock, host, vm_state, task_state, launched_at.
    /// - Parameters:
    ///   - locked: the server is locked and the caller is not admin (admins skip the lock check).
    ///   - launched: `launched_at` is set (the server booted once).
    ///   - hasHost: `instance.host` is set.
    static func check(
        _ action: InstanceAction,
        uuid: String,
        vm: VMState,
        task: TaskState?,
        locked: Bool = false,
        launched: Bool = true,
        hasHost: Bool = true
    ) -> InstanceStateRefusal? {
        if locked { return InstanceStateRefusal(reason: .locked, message: "Instance \(uuid) is locked") }
        let rule = admission(action)
        if rule.needsHost, !hasHost { return InstanceStateRefusal(reason: .notReady, message: "Instance \(uuid) is not ready") }
        let name = action.conflictName
        func refused(_ attr: String, _ state: String) -> InstanceStateRefusal {
            InstanceStateRefusal(reason: .invalidState, message: "Cannot '\(name)' instance \(uuid) while it is in \(attr) \(state)")
        }
        if let allowed = rule.vm, !allowed.contains(vm) { return refused("vm_state", vm.rawValue) }
        if let allowed = rule.task, !allowed.contains(task) { return refused("task_state", task?.rawValue ?? "None") }
        if rule.mustHaveLaunched, !launched {
            // NOTE: nova raises with state=None (launched_at), and the API then falls back to this text.
            return InstanceStateRefusal(reason: .invalidState, message: "Instance \(uuid) is in an invalid state for '\(name)'")
        }
        return nil
    }

    /// What the API writes when it accepts `action`: the first task state (`vm` nil = unchanged).
    static func begin(_ action: InstanceAction) -> (vm: VMState?, task: TaskState) {
        (nil, action.taskSteps[0])
    }

    /// What the compute host writes when `action` completes: the task state is cleared and the power
    /// state is the hypervisor's (`finish(.stop).power` is what a cleanly stopped guest reports).
    static func finish(_ action: InstanceAction) -> (vm: VMState, task: TaskState?, power: PowerState) {
        switch action {
        case .stop: (.stopped, nil, .shutdown)
        case .start, .rebootSoft, .rebootHard: (.active, nil, .running)
        case .delete, .forceDelete: (.deleted, nil, .noState)
        }
    }
}

/// nova-compute's power-state sync (`_sync_instance_power_state`) for an instance with no task
/// in progress: the stored power state follows the hypervisor's; a guest that went down by itself
/// (shut down, crashed, suspended) while ACTIVE, or shut down or crashed while PAUSED, is
/// recorded STOPPED, as nova's `force_stop`; a guest running while the server is STOPPED is
/// powered off. A guest the hypervisor does not know (NOSTATE) is only recorded.
struct PowerSync: Equatable {
    /// The power state to store (the hypervisor's, or SHUTDOWN after `powerOffGuest`).
    var power: PowerState
    /// vm_state becomes `stopped`.
    var stop = false
    /// The agent powers the guest off first.
    var powerOffGuest = false

    /// Nothing to do when the result equals what is stored.
    static func decide(vmState: VMState, stored: PowerState, actual: PowerState) -> PowerSync? {
        var out = PowerSync(power: actual)
        switch vmState {
        case .active:
            out.stop = [.shutdown, .crashed, .suspended].contains(actual)
        case .paused:
            out.stop = [.shutdown, .crashed].contains(actual)
        case .stopped:
            if ![.noState, .shutdown, .crashed].contains(actual) {
                out.powerOffGuest = true
                out.power = .shutdown
            }
        default:
            break
        }
        return out.power == stored && !out.stop && !out.powerOffGuest ? nil : out
    }
}
