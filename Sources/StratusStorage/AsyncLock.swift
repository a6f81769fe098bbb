/// A FIFO async mutex: at most one holder at a time, waiters resume in arrival order.
/// Serializes SQLite writers (SQLite has one writer at a time; queueing here instead of in
/// `busy_timeout` keeps the waiting off the thread pool).
public actor AsyncLock {
    public init() {}

    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public func lock() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func unlock() {
        if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
    }
}
