import Testing

@testable import Compute

/// nova's status mapping, status filter and action admission, on literal states.
@Suite struct InstanceStateTests {
    let uuid = "0b0c9b6e-5f1e-4a53-9d0a-4f2f6b1c7d11"

    @Test func statusFollowsNovasStateMap() {
        #expect(InstanceState.status(vm: .active, task: nil) == "ACTIVE")
        #expect(InstanceState.status(vm: .active, task: .rebooting) == "REBOOT")
        #expect(InstanceState.status(vm: .active, task: .rebootStartedHard) == "HARD_REBOOT")
        #expect(InstanceState.status(vm: .active, task: .updatingPassword) == "PASSWORD")
        #expect(InstanceState.status(vm: .active, task: .poweringOff) == "ACTIVE")
        #expect(InstanceState.status(vm: .building, task: .spawning) == "BUILD")
        #expect(InstanceState.status(vm: .stopped, task: nil) == "SHUTOFF")
        #expect(InstanceState.status(vm: .stopped, task: .rebuildSpawning) == "REBUILD")
        #expect(InstanceState.status(vm: .resized, task: nil) == "VERIFY_RESIZE")
        #expect(InstanceState.status(vm: .resized, task: .resizeReverting) == "REVERT_RESIZE")
        #expect(InstanceState.status(vm: .paused, task: .migrating) == "MIGRATING")
        #expect(InstanceState.status(vm: .rescued, task: nil) == "RESCUE")
        #expect(InstanceState.status(vm: .error, task: .rebuilding) == "REBUILD")
        #expect(InstanceState.status(vm: .softDeleted, task: nil) == "SOFT_DELETED")
        #expect(InstanceState.status(vm: .shelvedOffloaded, task: nil) == "SHELVED_OFFLOADED")
        #expect(InstanceState.status(vm: "soft-delete", task: "deleting") == "SOFT_DELETED")
        #expect(InstanceState.status(vm: "migrated", task: nil) == "UNKNOWN")
    }

    @Test func storedNamesAreNovas() {
        #expect(VMState.softDeleted.rawValue == "soft-delete")
        #expect(VMState.shelvedOffloaded.rawValue == "shelved_offloaded")
        #expect(TaskState.poweringOff.rawValue == "powering-off")
        #expect(TaskState.rebootPendingHard.rawValue == "reboot_pending_hard")
        #expect(TaskState.allCases.count == 42)
        #expect(PowerState.allCases.map(\.rawValue) == [0, 1, 3, 4, 6, 7])
        #expect(PowerState.noState.name == "pending")
    }

    @Test func statusFilterSelectsWhatNovaSelects() {
        #expect(InstanceState.filter(forStatuses: ["ACTIVE"]) == .init(vmStates: [.active], taskStates: nil))
        #expect(
            InstanceState.filter(forStatuses: ["reboot"])
                == .init(vmStates: [.active], taskStates: [.rebootPending, .rebootStarted, .rebooting])
        )
        #expect(
            InstanceState.filter(forStatuses: ["REBUILD"])
                == .init(vmStates: [.active, .error, .stopped], taskStates: [.rebuildBlockDeviceMapping, .rebuildSpawning, .rebuilding])
        )
        // A vm_state default among the statuses drops the task filter altogether, as in nova.
        #expect(InstanceState.filter(forStatuses: ["ACTIVE", "HARD_REBOOT"])?.taskStates == nil)
        #expect(InstanceState.filter(forStatuses: ["SHUTOFF", "ERROR"])?.vmStates == [.error, .stopped])
        #expect(InstanceState.filter(forStatuses: ["RUNNING"]) == nil)
        #expect(InstanceState.invalidStatusMessage == "Invalid status value")
    }

    @Test func refusalsCarryNovas409Text() {
        #expect(
            InstanceState.check(.stop, uuid: uuid, vm: .stopped, task: nil)?.message
                == "Cannot 'stop' instance \(uuid) while it is in vm_state stopped"
        )
        #expect(
            InstanceState.check(.start, uuid: uuid, vm: .active, task: nil)?.message
                == "Cannot 'start' instance \(uuid) while it is in vm_state active"
        )
        #expect(
            InstanceState.check(.stop, uuid: uuid, vm: .active, task: .poweringOff)?.message
                == "Cannot 'stop' instance \(uuid) while it is in task_state powering-off"
        )
        #expect(
            InstanceState.check(.rebootHard, uuid: uuid, vm: .active, task: .deleting)?.message
                == "Cannot 'reboot' instance \(uuid) while it is in task_state deleting"
        )
        #expect(InstanceState.check(.stop, uuid: uuid, vm: .active, task: nil, locked: true)?.message == "Instance \(uuid) is locked")
        #expect(InstanceState.check(.start, uuid: uuid, vm: .stopped, task: nil, hasHost: false)?.message == "Instance \(uuid) is not ready")
        #expect(
            InstanceState.check(.stop, uuid: uuid, vm: .active, task: nil, launched: false)?.message
                == "Instance \(uuid) is in an invalid state for 'stop'"
        )
    }

    @Test func aSoftRebootOfAStoppedServerIsRefusedNotUpgraded() {
        #expect(
            InstanceState.check(.rebootSoft, uuid: uuid, vm: .stopped, task: nil)?.message
                == "Cannot 'reboot' instance \(uuid) while it is in vm_state stopped"
        )
        #expect(InstanceState.check(.rebootHard, uuid: uuid, vm: .stopped, task: nil) == nil)
        #expect(InstanceState.check(.rebootHard, uuid: uuid, vm: .active, task: .rebooting) == nil)
        #expect(InstanceState.check(.rebootSoft, uuid: uuid, vm: .active, task: .rebooting) != nil)
    }

    @Test func deleteIsAdmittedInEveryStateButALock() {
        for vm in VMState.allCases {
            #expect(InstanceState.check(.delete, uuid: uuid, vm: vm, task: .spawning, launched: false) == nil)
            #expect(InstanceState.check(.forceDelete, uuid: uuid, vm: vm, task: .deleting) == nil)
        }
        #expect(InstanceState.check(.delete, uuid: uuid, vm: .error, task: nil, locked: true)?.reason == .locked)
    }

    @Test func transitionsSetAndClearTheTaskState() {
        #expect(InstanceState.begin(.stop).task == .poweringOff && InstanceState.begin(.stop).vm == nil)
        #expect(InstanceState.begin(.start).task == .poweringOn)
        #expect(InstanceState.begin(.rebootSoft).task == .rebooting)
        #expect(InstanceState.begin(.rebootHard).task == .rebootingHard)
        #expect(InstanceState.begin(.forceDelete).task == .deleting)
        #expect(InstanceAction.rebootHard.taskSteps == [.rebootingHard, .rebootPendingHard, .rebootStartedHard])
        let stopped = InstanceState.finish(.stop)
        #expect(stopped.vm == .stopped && stopped.task == nil && stopped.power == .shutdown)
        let rebooted = InstanceState.finish(.rebootHard)
        #expect(rebooted.vm == .active && rebooted.power == .running)
        let deleted = InstanceState.finish(.delete)
        #expect(deleted.vm == .deleted && deleted.power == .noState)
        #expect(InstanceState.status(vm: stopped.vm, task: stopped.task) == "SHUTOFF")
    }
}

/// nova's power-state sync decisions for an idle instance, on literal states.
@Suite struct PowerSyncTests {
    @Test("nothing to do when the hypervisor agrees with the stored state")
    func agreement() {
        #expect(PowerSync.decide(vmState: .active, stored: .running, actual: .running) == nil)
        #expect(PowerSync.decide(vmState: .stopped, stored: .shutdown, actual: .shutdown) == nil)
        #expect(PowerSync.decide(vmState: .stopped, stored: .shutdown, actual: .noState) == PowerSync(power: .noState))
    }

    @Test("a guest that went down by itself stops its server; an unknown one is only recorded")
    func guestWentDown() {
        #expect(PowerSync.decide(vmState: .active, stored: .running, actual: .shutdown) == PowerSync(power: .shutdown, stop: true))
        #expect(PowerSync.decide(vmState: .active, stored: .running, actual: .crashed) == PowerSync(power: .crashed, stop: true))
        #expect(PowerSync.decide(vmState: .active, stored: .running, actual: .suspended) == PowerSync(power: .suspended, stop: true))
        #expect(PowerSync.decide(vmState: .paused, stored: .paused, actual: .shutdown) == PowerSync(power: .shutdown, stop: true))
        #expect(PowerSync.decide(vmState: .active, stored: .running, actual: .noState) == PowerSync(power: .noState))
        #expect(PowerSync.decide(vmState: .active, stored: .running, actual: .paused) == PowerSync(power: .paused))
        #expect(PowerSync.decide(vmState: .error, stored: .running, actual: .shutdown) == PowerSync(power: .shutdown))
    }

    @Test("a guest running while its server is stopped is powered off")
    func runningWhileStopped() {
        #expect(
            PowerSync.decide(vmState: .stopped, stored: .shutdown, actual: .running) == PowerSync(power: .shutdown, powerOffGuest: true)
        )
    }
}
