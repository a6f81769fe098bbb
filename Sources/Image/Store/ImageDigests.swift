/// glance's digests as text: lower-case hex, as `checksum` and `os_hash_value` show them.
enum ImageDigests {
    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let chars = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(chars[Int(b >> 4)])
            out.append(chars[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
