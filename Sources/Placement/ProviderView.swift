import StratusStorage
import Synchronization

/// This process's `ProviderWorld`, kept in step with the database.
///
/// Every read first fetches `placement_state` (one row): when nothing changed the world in
/// memory is current; otherwise only providers whose `change_seq` moved are reloaded (all of them
/// after a provider was deleted), and the class and trait names when they changed. Writes from
/// any process, this one or another behind the same database, are seen by the next read.
final class ProviderView: Sendable {
    private struct Snapshot {
        var world: ProviderWorld
        var state: ViewState
    }

    private let snapshot = Mutex<Snapshot?>(nil)
    private let reload = AsyncLock()

    /// The world as of now.
    func current(_ db: Database) async throws -> ProviderWorld {
        let state = try await db.read { sql in try await ProviderStore().state(in: sql) }
        if let s = snapshot.withLock({ $0 }), s.state == state { return s.world }
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

    private func refresh(_ db: Database, to state: ViewState) async throws -> ProviderWorld {
        let old = snapshot.withLock { $0 }
        if let old, old.state.seq >= state.seq, old.state.structure == state.structure, old.state.names == state.names { return old.world }
        var world: ProviderWorld
        if let old, old.state.structure == state.structure {
            let since = old.state.seq
            let changed = try await db.read { sql in try await WorldStore().load(since: since, in: sql) }
            world = old.world
            for l in changed { world.upsert(l) }
        } else {
            let all = try await db.read { sql in try await WorldStore().load(since: nil, in: sql) }
            world = ProviderWorld(firstRevision: old?.world.nextRevision ?? 1)
            for l in all { world.upsert(l) }
        }
        world.reindexRoots()
        if let old, old.state.names == state.names {
            world.knownClasses = old.world.knownClasses
            world.knownTraits = old.world.knownTraits
        } else {
            let names = try await db.read { sql in try await WorldStore().names(in: sql) }
            world.knownClasses = names.classes
            world.knownTraits = names.traits
        }
        let fresh = Snapshot(world: world, state: state)
        snapshot.withLock { $0 = fresh }
        return world
    }
}
