import Foundation
import StratusCore
import Synchronization

/// What a hypervisor driver does for the compute agent; the QEMU driver will implement the
/// same. `record` is the instance as the agent receives it with a task.
protocol ComputeDriver: Sendable {
    /// The hypervisor's resources: (vcpus, memory_mb, local_gb, hypervisor type).
    var resources: (vcpus: Int, memoryMB: Int, localGB: Int, type: String) { get }
    /// What guests the hypervisor runs: nova's supported_instances, `[arch, hv_type, vm_mode]` each.
    var supportedInstances: [[String]] { get }
    func spawn(_ record: JSON, networkInfo: [JSON]) async throws
    func destroy(_ uuid: String) async throws
    func reboot(_ uuid: String, hard: Bool) async throws
    func powerOn(_ uuid: String) async throws
    func powerOff(_ uuid: String) async throws
    func pause(_ uuid: String) async throws
    func suspend(_ uuid: String) async throws
    func snapshot(_ uuid: String, imageID: String) async throws
    func resize(_ uuid: String, flavor: JSON) async throws
    func migrate(_ uuid: String, to host: String) async throws
    func consoleOutput(_ uuid: String) async throws -> String
    func attachInterface(_ uuid: String, vif: JSON) async throws
    func detachInterface(_ uuid: String, portID: String) async throws
    /// The guest's power state (nova's numbers), or nil when the hypervisor has no such guest.
    func info(_ uuid: String) async -> Int?
}

/// nova's fake driver: every operation succeeds at once and the guest's power state is kept in
/// memory; the host resources are nova's FakeDriver's unless `[stratus] fake_*` say otherwise.
/// A server whose name starts with `[stratus] fake_fail_spawn` fails to spawn (for tests).
final class FakeDriver: ComputeDriver {
    let resources: (vcpus: Int, memoryMB: Int, localGB: Int, type: String)
    let failPrefix: String
    /// nova's FakeDriver: x86_64 guests of the `fake` hypervisor in HVM mode.
    let supportedInstances = [["x86_64", "fake", "hvm"]]
    private let guests = Mutex<[String: Int]>([:])

    init(settings: ComputeSettings) {
        resources = (settings.fakeVCPUs, settings.fakeMemoryMB, settings.fakeLocalGB, "fake")
        failPrefix = settings.fakeFailSpawn
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    func spawn(_ record: JSON, networkInfo: [JSON]) async throws {
        let name = record["name"]?.stringValue ?? ""
        if !failPrefix.isEmpty, name.hasPrefix(failPrefix) { throw Refused(description: "The fake driver was told to fail spawning \(name).") }
        guard let uuid = record["uuid"]?.stringValue else { return }
        guests.withLock { $0[uuid] = 1 }
    }

    func destroy(_ uuid: String) async throws { _ = guests.withLock { $0.removeValue(forKey: uuid) } }
    func reboot(_ uuid: String, hard: Bool) async throws { guests.withLock { $0[uuid] = 1 } }
    func powerOn(_ uuid: String) async throws { guests.withLock { $0[uuid] = 1 } }
    func powerOff(_ uuid: String) async throws { guests.withLock { $0[uuid] = 4 } }
    func pause(_ uuid: String) async throws { guests.withLock { $0[uuid] = 3 } }
    func suspend(_ uuid: String) async throws { guests.withLock { $0[uuid] = 7 } }
    func snapshot(_ uuid: String, imageID: String) async throws {}
    func resize(_ uuid: String, flavor: JSON) async throws {}
    func migrate(_ uuid: String, to host: String) async throws {}
    func consoleOutput(_ uuid: String) async throws -> String { "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE" }
    func attachInterface(_ uuid: String, vif: JSON) async throws {}
    func detachInterface(_ uuid: String, portID: String) async throws {}
    func info(_ uuid: String) async -> Int? { guests.withLock { $0[uuid] } }
}
