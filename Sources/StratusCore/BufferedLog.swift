import Foundation
import Logging

/// Log lines on standard error without a syscall per line: lines collect in one process-wide
/// buffer, written when it holds 64 KiB, every 100 ms by a flusher thread, at once for errors,
/// and by `flush()` at shutdown (and before Stratus writes to stderr itself). A crash loses at
/// most the last 100 ms of lines; SIGTERM loses none (the daemons flush after draining).
public final class LogBuffer: @unchecked Sendable {
    public static let shared = LogBuffer()
    static let limit = 64 << 10
    static let interval: TimeInterval = 0.1

    private let lock = NSLock()
    /// Held while writing, so batches reach stderr in the order they were taken.
    private let writeLock = NSLock()
    private var pending: [UInt8] = []
    private var flusher: Thread?
    private var second: Int = -1
    private var stamp = ""

    init() { pending.reserveCapacity(Self.limit) }

    /// `2026-11-27T16:56:37+0000`, as swift-log's stream handler writes it; formatted once a second.
    private func timestamp() -> String {
        let now = time(nil)
        if now == second { return stamp }
        var t = now
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { strftime($0, p.count, "%Y-%m-%dT%H:%M:%S%z", &parts) }
        }
        second = now
        stamp = String(decoding: buffer[..<n], as: UTF8.self)
        return stamp
    }

    /// Appends one line (`prefix` after the timestamp); `urgent` writes it out now.
    func append(_ rest: String, urgent: Bool) {
        lock.lock()
        pending.append(contentsOf: timestamp().utf8)
        pending.append(0x20)
        pending.append(contentsOf: rest.utf8)
        let full = urgent || pending.count >= Self.limit
        if flusher == nil {
            let thread = Thread { [self] in
                while true {
                    Thread.sleep(forTimeInterval: Self.interval)
                    flush()
                }
            }
            thread.name = "stratus-log"
            flusher = thread
            thread.start()
        }
        lock.unlock()
        if full { flush() }
    }

    /// Writes out everything buffered.
    public func flush() {
        writeLock.lock()
        defer { writeLock.unlock() }
        lock.lock()
        guard !pending.isEmpty else {
            lock.unlock()
            return
        }
        let out = pending
        pending.removeAll(keepingCapacity: true)
        lock.unlock()
        out.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let n = write(2, base + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

/// swift-log's stream format (`<time> <level> <label>: <metadata> [<source>] <message>`) into
/// `LogBuffer.shared`.
///
/// The request ids every request's logger carries (Stratus's `request_id`, Hummingbird's
/// `hb.request.id`) are kept in fields of their own rather than the metadata dictionary:
/// setting them and writing the request's line are on every request's path.
public struct BufferedLogHandler: LogHandler {
    public static let requestIDKey = "request_id"
    public static let frameworkIDKey = "hb.request.id"
    var others: Logger.Metadata = [:]
    var requestID: Logger.Metadata.Value?
    var frameworkID: Logger.Metadata.Value?
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public var metadata: Logger.Metadata {
        get {
            var all = others
            if let requestID { all[Self.requestIDKey] = requestID }
            if let frameworkID { all[Self.frameworkIDKey] = frameworkID }
            return all
        }
        set {
            others = newValue
            requestID = others.removeValue(forKey: Self.requestIDKey)
            frameworkID = others.removeValue(forKey: Self.frameworkIDKey)
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get {
            switch key {
            case Self.requestIDKey: requestID
            case Self.frameworkIDKey: frameworkID
            default: others[key]
            }
        }
        set {
            switch key {
            case Self.requestIDKey: requestID = newValue
            case Self.frameworkIDKey: frameworkID = newValue
            default: others[key] = newValue
            }
        }
    }

    public func log(event: LogEvent) {
        LogBuffer.shared.append(line(for: event), urgent: event.level >= .error)
    }

    /// The line after the timestamp, newline included.
    func line(for event: LogEvent) -> String {
        var line = event.level.rawValue
        line += " "
        line += label
        line += ":"
        if others.isEmpty, event.metadata?.isEmpty ?? true {
            if let frameworkID {  // sorts before request_id
                line += " hb.request.id="
                line += frameworkID.description
            }
            if let requestID {
                line += " request_id="
                line += requestID.description
            }
        } else {
            var all = metadata
            if let extra = event.metadata { all.merge(extra) { _, new in new } }
            for (key, value) in all.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        }
        line += " ["
        line += event.source
        line += "] "
        line += event.message.description
        line += "\n"
        return line
    }
}
