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
/// one core), so each digest is a chain of tasks, one per 1 MiB batch, running beside the task
/// that inspects and writes: both cores work on one pass over the data.
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
    private var md5 = HashChain<Insecure.MD5>()
    private var sha512 = HashChain<SHA512>()
    private(set) var inspector = FormatInspector()

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Failure.io("open \(path)", errno) }
    }

    deinit {
        if fd >= 0 { close(fd) }
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
        await sha512.add(buffers)
        await md5.add(buffers)
        for buffer in buffers { buffer.withUnsafeReadableBytes { inspector.feed($0) } }
        // The write may block (the kernel throttles writers of dirty pages): a pool thread waits,
        // not one of the few threads every service's requests run on.
        let fd = self.fd
        let path = self.path
        try await NIOThreadPool.singleton.runIfActive {
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
        return (await md5.hex(), await sha512.hex())
    }

    /// Closes and removes the file.
    func abort() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(path)
    }
}

/// A digest computed by a chain of tasks, one per batch: each waits for its predecessor's state,
/// adds its batch and hands the state on. At most `backlog` batches are queued (the writer waits
/// for the oldest beyond that), which bounds memory.
struct HashChain<H: HashFunction & SendableMetatype> {
    /// The hash state in flight. Exactly one task holds it at a time (each awaits the previous
    /// one's result before touching it), which is what makes the handoff safe.
    struct State: @unchecked Sendable {
        var hash = H()
    }

    static var backlog: Int { 4 }
    private var tasks: [Task<State, Never>] = [Task { State() }]

    mutating func add(_ buffers: [ByteBuffer]) async {
        let previous = tasks[tasks.count - 1]
        tasks.append(
            Task.detached {
                var state = await previous.value
                for buffer in buffers { buffer.withUnsafeReadableBytes { state.hash.update(bufferPointer: $0) } }
                return state
            }
        )
        if tasks.count > Self.backlog { _ = await tasks.removeFirst().value }
    }

    /// The digest of everything added, in lower-case hex.
    func hex() async -> String {
        ImageDigests.hex(await tasks[tasks.count - 1].value.hash.finalize())
    }
}
