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
/// sha512 is the costliest step (about the disk's speed on one core), so it runs one chunk behind
/// in its own task while this one does md5, inspection and the write: two cores, one pass.
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
    private(set) var size: Int64 = 0
    private var md5 = Insecure.MD5()
    /// The sha512 of every chunk written so far, once its task finishes.
    private var sha512: Task<HandedOff, Never> = Task { HandedOff() }
    private(set) var inspector = FormatInspector()

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Failure.io("open \(path)", errno) }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Appends a chunk.
    func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        // One chunk in flight: the previous hash must be done before this one starts.
        var state = await sha512.value
        sha512 = Task.detached {
            buffer.withUnsafeReadableBytes { state.hash.update(bufferPointer: $0) }
            return state
        }
        try buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            md5.update(bufferPointer: bytes)
            inspector.feed(bytes)
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
        size += Int64(buffer.readableBytes)
    }

    /// Flushes the data to disk and closes the file: (md5 hex, sha512 hex).
    func finish() async throws -> (md5: String, sha512: String) {
        let fd = self.fd
        self.fd = -1
        let path = self.path
        try await NIOThreadPool.singleton.runIfActive {
            defer { close(fd) }
            guard fsync(fd) == 0 else { throw Failure.io("fsync \(path)", errno) }
        }
        let sha = await sha512.value
        return (ImageDigests.hex(md5.finalize()), ImageDigests.hex(sha.hash.finalize()))
    }

    /// The sha512 state, passed from one chunk's task to the next: exactly one task holds it at a
    /// time (each awaits the previous one's result), which is what makes the handoff safe.
    struct HandedOff: @unchecked Sendable {
        var hash = SHA512()
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
