import StratusStorage
import Synchronization

/// This process's `ProviderWorld`, kept in step with the database.
///
/// Every read first fetches `placement_state` (one row): when nothing changed the world in
/// memory is current; otherwise only providers whose `change_seq` moved are reloaded (all of them
/// after a provider was deleted). Writes from any process, this one or another behind the same
/// database, are seen by the next read.
final class ProviderView: Sendable {
    private struct Snapshot {
        var world: ProviderWorld
        var seq: Int64
        var structure: Int64
    }

    private let snapshot = Mutex<Snapshot?>(nil)
    private let reload = AsyncLock()

    /// The world as of now.
    func current(_ db: Database) async throws -> ProviderWorld {
        let state = try await db.read { sql in try await ProviderStore().state(in: sql) }
        if let s = snapshot.withLock({ $0 }), s.seq == state.seq, s.structure == state.structure { return s.world }
        await reload.lock()
        do {
            let world = try await refresh(db, to: state)
            await reload.unlock()
            return world
        } catch {
            await reload.unlock()
            throw error
        }
    }

    private func refresh(_ db: Database, to state: (seq: Int64, structure: Int64)) async throws -> ProviderWorld {
        var s = snapshot.withLock { $0 }
        if let current = s, current.seq >= state.seq, current.structure == state.structure { return current.world }
        if s == nil || s!.structure != state.structure {
            let all = try await db.read { sql in try await WorldStore().load(since: nil, in: sql) }
            var world = ProviderWorld(firstRevision: s?.world.nextRevision ?? 1)
            for l in all { world.upsert(l) }
            world.reindexRoots()
            s = Snapshot(world: world, seq: state.seq, structure: state.structure)
        } else {
            let since = s!.seq
            let changed = try await db.read { sql in try await WorldStore().load(since: since, in: sql) }
            var world = s!.world
            s = nil
            for l in changed { world.upsert(l) }
            world.reindexRoots()
            s = Snapshot(world: world, seq: state.seq, structure: state.structure)
        }
        let fresh = s!
        snapshot.withLock { $0 = fresh }
        return fresh.world
    }
}
