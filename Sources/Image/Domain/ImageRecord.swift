import Foundation

/// An image as glance keeps it: the core attributes, the custom properties and the tags.
/// `location` is where the data is in the store (never shown unless the config says so).
struct ImageRecord: Sendable, Equatable {
    var id: String
    var name: String?
    var status: ImageStatus
    var visibility: Visibility
    var size: Int64?
    var virtualSize: Int64?
    var checksum: String?
    var hashAlgo: String?
    var hashValue: String?
    var diskFormat: String?
    var containerFormat: String?
    var minDisk: Int64 = 0
    var minRam: Int64 = 0
    var protected = false
    var hidden = false
    var owner: String?
    var location: String?
    var createdAt: Int64
    var updatedAt: Int64
    var properties: [String: String] = [:]
    var tags: [String] = []
}

/// glance's image statuses. `killed` and `pending_delete` are never entered: a failed upload
/// returns the image to `queued`, as glance v2 does, and a delete removes the image at once.
enum ImageStatus: String, Sendable, CaseIterable {
    case queued, saving, active, killed, deleted, deactivated, uploading, importing
    case pendingDelete = "pending_delete"
}

enum Visibility: String, Sendable, CaseIterable {
    case `public`, `private`, shared, community
}

/// An image member: a project the owner shares a `shared` image with, and its answer.
struct MemberRecord: Sendable, Equatable, Decodable {
    enum Status: String, Sendable, CaseIterable, Decodable { case pending, accepted, rejected }
    var imageID: String
    var member: String
    var status: Status
    var createdAt: Int64
    var updatedAt: Int64

    /// Decoded straight from an `image_members` row (`image_id` arrives as `imageId`).
    enum CodingKeys: String, CodingKey {
        case member, status, createdAt, updatedAt
        case imageID = "imageId"
    }
}

/// A task (`/v2/tasks`): glance records one per import.
struct TaskRecord: Sendable, Equatable, Decodable {
    var id: String
    var type: String
    var status: String
    var owner: String
    var input: String
    var result: String?
    var message: String
    var imageID: String?
    var requestID: String?
    var userID: String?
    var expiresAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    /// Decoded straight from a `tasks` row.
    enum CodingKeys: String, CodingKey {
        case id, type, status, owner, input, result, message, expiresAt, createdAt, updatedAt
        case imageID = "imageId"
        case requestID = "requestId"
        case userID = "userId"
    }
}

/// glance's timestamps: UTC to the second, `2024-05-01T12:00:00Z`.
enum Timestamp {
    static func render(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Parses ISO 8601 as glance's filters accept it (`2024-05-01T12:00:00Z`, with an offset or
    /// fraction, or a bare date); nil when it is not a time.
    static func parse(_ text: String) -> Int64? {
        let s = text.trimmingCharacters(in: .whitespaces)
        let digits = Array(s.utf8)
        func number(_ from: Int, _ count: Int) -> Int32? {
            guard from + count <= digits.count else { return nil }
            var n: Int32 = 0
            for b in digits[from..<(from + count)] {
                guard (48...57).contains(b) else { return nil }
                n = n * 10 + Int32(b - 48)
            }
            return n
        }
        guard let year = number(0, 4), digits.count >= 10, digits[4] == 45, let month = number(5, 2), digits[7] == 45,
            let day = number(8, 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour: Int32 = 0
        var minute: Int32 = 0
        var second: Int32 = 0
        var i = 10
        if i < digits.count, digits[i] == 84 || digits[i] == 32 {  // 'T' or ' '
            guard let h = number(i + 1, 2), i + 3 < digits.count, digits[i + 3] == 58, let m = number(i + 4, 2) else { return nil }
            hour = h
            minute = m
            i += 6
            if i < digits.count, digits[i] == 58 {
                guard let sec = number(i + 1, 2) else { return nil }
                second = sec
                i += 3
            }
            if i < digits.count, digits[i] == 46 {  // fraction
                i += 1
                while i < digits.count, (48...57).contains(digits[i]) { i += 1 }
            }
        }
        var offset: Int64 = 0
        if i < digits.count {
            if digits[i] == 90, i == digits.count - 1 {  // 'Z'
                i += 1
            } else if digits[i] == 43 || digits[i] == 45 {  // '+' / '-'
                let sign: Int64 = digits[i] == 43 ? 1 : -1
                guard let oh = number(i + 1, 2) else { return nil }
                var om: Int32 = 0
                if i + 3 < digits.count {
                    let j = digits[i + 3] == 58 ? i + 4 : i + 3
                    guard let m = number(j, 2), j + 2 == digits.count else { return nil }
                    om = m
                } else if i + 3 != digits.count {
                    return nil
                }
                offset = sign * (Int64(oh) * 3600 + Int64(om) * 60)
                i = digits.count
            } else {
                return nil
            }
        }
        guard i == digits.count, hour < 24, minute < 60, second < 61 else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts)) - offset
    }
}

/// Seconds since the epoch, as glance's rows store timestamps.
enum Clock {
    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
}
