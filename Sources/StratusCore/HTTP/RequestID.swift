import Foundation

/// `req-<uuid4>` request ids, as oslo.context makes them, without a syscall each: Foundation's
/// `UUID()` opens and reads /dev/urandom per call, which showed in the request path's profile.
/// The bits come from a splitmix64 stream seeded once from the system's generator: unique and
/// unpredictable enough for correlating log lines (they are not secrets).
public enum RequestID {
    private static let state = SplitMix()

    public static func next() -> String {
        let (a, b) = state.twoWords()
        // Written straight into the string's storage: "req-" and 32 nibbles in the 8-4-4-4-12
        // groups, version 4 at nibble 12 and variant 10xx at nibble 16.
        return String(unsafeUninitializedCapacity: 40) { out in
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            out[0] = 0x72  // r
            out[1] = 0x65  // e
            out[2] = 0x71  // q
            out[3] = 0x2D  // -
            var o = 4
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 {
                    out[o] = 0x2D
                    o += 1
                }
                let word = i < 16 ? a : b
                var nibble = Int((word >> (60 - UInt64(i % 16) * 4)) & 0xF)
                if i == 12 { nibble = 4 }
                if i == 16 { nibble = 8 | (nibble & 3) }
                out[o] = digits[nibble]
                o += 1
            }
            return o
        }
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
