import Crypto

/// glance's two digests of image data, computed as it streams: md5 (`checksum`, `Content-MD5`)
/// and sha512 (`os_hash_algo` / `os_hash_value`, glance's default `hashing_algorithm`).
struct ImageDigests {
    private var md5 = Insecure.MD5()
    private var sha512 = SHA512()

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        md5.update(bufferPointer: bytes)
        sha512.update(bufferPointer: bytes)
    }

    func finalize() -> (md5: String, sha512: String) {
        (ImageDigests.hex(md5.finalize()), ImageDigests.hex(sha512.finalize()))
    }

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
