/// JSON written straight into bytes, for responses too large to build as a `JSON` tree first
/// (placement's allocation candidates run to megabytes). The caller writes the structure; this
/// escapes strings as `JSON.writeString` does and formats integers without allocating.
public struct JSONBytes: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends literal JSON text (punctuation, keys known to need no escaping).
    public mutating func literal(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends bytes already in JSON form (a cached fragment).
    public mutating func fragment(_ fragment: [UInt8]) {
        bytes.append(contentsOf: fragment)
    }

    /// Appends `s` as a quoted, escaped JSON string.
    public mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            var run = 0
            for (i, b) in utf8.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
                bytes.append(contentsOf: utf8[run..<i])
                switch b {
                case 0x22: literal("\\\"")
                case 0x5C: literal("\\\\")
                case 0x0A: literal("\\n")
                case 0x0D: literal("\\r")
                case 0x09: literal("\\t")
                default:
                    literal("\\u00")
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(hex[Int(b >> 4)])
                    bytes.append(hex[Int(b & 0xF)])
                }
                run = i + 1
            }
            bytes.append(contentsOf: utf8[run...])
        }
        bytes.append(0x22)
    }

    /// Appends an integer.
    public mutating func int(_ n: Int) {
        if n < 0 {
            bytes.append(0x2D)
            if n == Int.min {
                bytes.append(contentsOf: Array(String(n).utf8.dropFirst()))
                return
            }
        }
        var v = n.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(truncatingIfNeeded: v % 10) + 0x30
                v /= 10
                count += 1
            } while v > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }
}
