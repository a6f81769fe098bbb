import Foundation

/// `req-<uuid4>` request ids, as oslo.context makes them, without a syscall each: Foundation's
/// `UUID()` opens and reads /dev/urandom per call, which showed in the request path's profile.
/// The bits come from a splitmix64 stream seeded once from the system's generator: unique and
/// unpredictable enough for correlating log lines (they are not secrets).
public enum RequestID {
    private static let state = SplitMix()

    public static func next() -> String {
        let (a, b) = state.twoWords()
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 40)
        out[0] = 0x72  // r
        out[1] = 0x65  // e
        out[2] = 0x71  // q
        out[3] = 0x2D  // -
        // 32 nibbles: version 4 at nibble 12, variant 10xx at nibble 16.
        var nibbles = [UInt8](repeating: 0, count: 32)
        for i in 0..<16 {
            nibbles[i] = UInt8((a >> (60 - UInt64(i) * 4)) & 0xF)
            nibbles[16 + i] = UInt8((b >> (60 - UInt64(i) * 4)) & 0xF)
        }
        nibbles[12] = 4
        nibbles[16] = 8 | (nibbles[16] & 3)
        var o = 4
        for (i, n) in nibbles.enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 {
                out[o] = 0x2D
                o += 1
            }
            out[o] = hex[Int(n)]
            o += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A locked splitmix64 generator.
final class SplitMix: @unchecked Sendable {
    private let lock = NSLock()
    private var x: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        x = system.next()
    }

    func twoWords() -> (UInt64, UInt64) {
        lock.lock()
        defer { lock.unlock() }
        return (step(), step())
    }

    private func step() -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
