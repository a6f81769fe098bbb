import Crypto
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// glance_store's `file` store: image data as one file per image under
/// `[glance_store] filesystem_store_datadir`, named by the image id. Data is written to a
/// hidden temporary file beside it and renamed into place only when complete, so a file under
/// the image's own name is always whole.
struct FileStore: Sendable {
    let directory: String

    func path(of image: String) -> String { directory + "/" + image }

    /// glance's location URL for an image in this store.
    func location(of image: String) -> String { "file://" + path(of: image) }

    /// The path a location URL names, when it is in this store.
    func path(location: String) -> String? {
        guard location.hasPrefix("file://") else { return nil }
        return String(location.dropFirst("file://".count))
    }

    /// A temporary file for one writer (`.<image>.<writer>.partial`), in the same directory so
    /// the final rename is atomic.
    func temporaryPath(of image: String, writer: String) -> String { directory + "/." + image + "." + writer + ".partial" }

    func ensureDirectory() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Removes a file; a missing file is fine.
    static func remove(_ path: String) {
        unlink(path)
    }

    /// Renames `from` to `to` and makes the rename durable.
    static func commit(_ from: String, to: String) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            guard rename(from, to) == 0 else { throw DataWriter.Failure.io("rename", errno) }
            let dir = (to as NSString).deletingLastPathComponent
            let fd = open(dir, O_RDONLY | O_DIRECTORY)
            if fd >= 0 {
                fsync(fd)
                close(fd)
            }
        }
    }

    /// Files in the store directory whose name marks them as temporary, with their age in seconds.
    func temporaryFiles() -> [(path: String, age: Int64)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let now = Clock.now
        return names.filter { $0.hasPrefix(".") && $0.hasSuffix(".partial") }.compactMap { name in
            let path = directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            return (path, now - Int64(st.st_mtim.tv_sec))
        }
    }
}

/// Writes one image's data to a file as it arrives: counts it, hashes it (md5 and sha512, as
/// glance's `checksum` and `os_hash_value`) and feeds the format inspector, without keeping
/// more than the chunks at hand in memory. `finish` makes it durable; `abort` removes it.
///
/// Hashing costs more CPU than anything else here (sha512 alone runs at about the disk's speed on
/// one core), so the data moves in 1 MiB batches: sha512 runs on a thread of its own
/// (`DigestThread`), md5 and the write on NIO's thread pool, the inspection here — both cores
/// work on one pass over the data.
final class DataWriter {
    enum Failure: Error, CustomStringConvertible {
        case io(String, Int32)
        var description: String {
            switch self {
            case .io(let op, let code): "\(op) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    let path: String
    private var fd: Int32
    /// Bytes written so far (a batch not yet flushed is counted by `received`).
    private(set) var size: Int64 = 0
    /// Bytes handed to `write` so far.
    var received: Int64 { size + Int64(batched) }
    private let md5 = MD5Box()
    private let sha512 = DigestThread()
    private(set) var inspector = FormatInspector()

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Failure.io("open \(path)", errno) }
    }

    deinit {
        if fd >= 0 { close(fd) }
        sha512.cancel()
    }

    /// Chunks received but not yet hashed and written: handed over together once they reach
    /// `batchBytes`, so the two tasks meet once per batch, not once per socket read.
    private var batch: [ByteBuffer] = []
    private var batched = 0
    static let batchBytes = 1 << 20
    /// Bytes handed to the kernel's writeback so far, and how often to hand more.
    private var scheduled: Int64 = 0
    static let writebackBytes: Int64 = 8 << 20

    /// Appends a chunk.
    func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        batch.append(buffer)
        batched += buffer.readableBytes
        if batched >= Self.batchBytes { try await flush() }
    }

    /// Hashes and writes the pending batch: sha512 in its own task (one batch in flight), the rest here.
    private func flush() async throws {
        guard !batch.isEmpty else { return }
        let buffers = batch
        batch = []
        batched = 0
        for buffer in buffers { buffer.withUnsafeReadableBytes { inspector.feed($0) } }
        // The write may block (the kernel throttles writers of dirty pages): a pool thread waits,
        // not one of the few threads every service's requests run on.
        let fd = self.fd
        let path = self.path
        let md5 = self.md5
        let sha512 = self.sha512
        try await NIOThreadPool.singleton.runIfActive {
            // Waits here (a pool thread) while the sha512 thread is more than its backlog behind.
            sha512.add(buffers)
            for buffer in buffers { buffer.withUnsafeReadableBytes { md5.hash.update(bufferPointer: $0) } }
            for buffer in buffers {
                try buffer.withUnsafeReadableBytes { bytes in
                    guard let base = bytes.baseAddress else { return }
                    var offset = 0
                    while offset < bytes.count {
                        let n = Glibc.write(fd, base + offset, bytes.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw Failure.io("write \(path)", errno)
                        }
                        offset += n
                    }
                }
            }
        }
        size += Int64(buffers.reduce(0) { $0 + $1.readableBytes })
        // Start writeback of what is written so far without waiting for it (Linux starts it for
        // dirty pages on POSIX_FADV_DONTNEED), so the disk works while the data still streams in
        // and the final fsync finds little left to do.
        if size - scheduled >= Self.writebackBytes {
            _ = posix_fadvise(fd, off_t(scheduled), off_t(size - scheduled), POSIX_FADV_DONTNEED)
            scheduled = size
        }
    }

    /// Flushes the data to disk and closes the file: (md5 hex, sha512 hex).
    func finish() async throws -> (md5: String, sha512: String) {
        try await flush()
        let fd = self.fd
        self.fd = -1
        let path = self.path
        try await NIOThreadPool.singleton.runIfActive {
            defer { close(fd) }
            guard fsync(fd) == 0 else { throw Failure.io("fsync \(path)", errno) }
        }
        let sha512 = self.sha512
        let digest = try await NIOThreadPool.singleton.runIfActive { sha512.finish() }
        return (ImageDigests.hex(md5.hash.finalize()), digest)
    }

    /// Closes and removes the file.
    func abort() {
        sha512.cancel()
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(path)
    }
}

/// md5 state used by one writer's pool jobs, one job at a time (each awaited before the next).
final class MD5Box: @unchecked Sendable {
    var hash = Insecure.MD5()
}

/// sha512 of a stream on a thread of its own, fed batches through a queue bounded at `backlog`
/// bytes: `add` blocks (on the caller's pool thread) while the queue is full.
final class DigestThread: @unchecked Sendable {
    static let backlog = 8 << 20
    private let condition = NSCondition()
    private var queue: [ByteBuffer] = []
    private var queued = 0
    private var closed = false
    private var cancelled = false
    private var digest: String?

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "stratus-sha512"
        thread.start()
    }

    func add(_ buffers: [ByteBuffer]) {
        condition.lock()
        while queued >= Self.backlog && !cancelled { condition.wait() }
        queue += buffers
        queued += buffers.reduce(0) { $0 + $1.readableBytes }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the queue to drain: the digest in lower-case hex.
    func finish() -> String {
        condition.lock()
        closed = true
        condition.broadcast()
        while digest == nil { condition.wait() }
        let result = digest ?? ""
        condition.unlock()
        return result
    }

    /// Stops the thread without a result (the write was abandoned).
    func cancel() {
        condition.lock()
        cancelled = true
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        var hash = SHA512()
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if cancelled || (queue.isEmpty && closed) {
                if !cancelled { digest = ImageDigests.hex(hash.finalize()) }
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue = []
            condition.unlock()
            for buffer in batch { buffer.withUnsafeReadableBytes { hash.update(bufferPointer: $0) } }
            condition.lock()
            queued -= batch.reduce(0) { $0 + $1.readableBytes }
            condition.broadcast()
            condition.unlock()
        }
    }
}
