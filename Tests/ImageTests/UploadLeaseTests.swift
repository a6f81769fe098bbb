import Foundation
import SQLKit
import StratusCore
import StratusStorage
import Testing

@testable import Image

/// What the lease reaper does to writes a dead process left behind, and what it leaves alone.
@Suite struct UploadLeaseTests {
    /// Puts `image` in `status` with a lease held by `process`, last seen at `heartbeat`.
    func lease(_ f: ImageFixture, _ image: String, status: ImageStatus, kind: String, process: String, heartbeat: Int64, files: [String]) async throws
    {
        try await f.service.db.write { sql in
            try await sql.update("images").set("status", to: status.rawValue).where("id", .equal, image).run()
            try await sql.insert(into: "upload_leases").columns("image_id", "process", "kind", "paths", "heartbeat")
                .values(SQLBind(image), SQLBind(process), SQLBind(kind), SQLBind(files.joined(separator: "\n")), SQLBind(heartbeat)).run()
        }
        for file in files { FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3])) }
    }

    @Test func abandonedWritesAreUndoneAndLiveOnesKept() async throws {
        try await ImageFixture.test([("stratus", "upload_lease_seconds", "5")]) { c, f in
            let dead = try await c.image()
            let live = try await c.image()
            let deadFile = f.dir + "/images/.\(dead).gone-1.partial"
            let liveFile = f.dir + "/images/.\(live).other-2.partial"
            try await lease(f, dead, status: .saving, kind: "upload", process: "gone:1", heartbeat: Clock.now - 60, files: [deadFile])
            try await lease(f, live, status: .saving, kind: "upload", process: "other:2", heartbeat: Clock.now, files: [liveFile])
            await f.service.leases.reap()
            #expect(try await c.call(.get, "/v2/images/\(dead)").json?["status"]?.stringValue == "queued")
            #expect(!FileManager.default.fileExists(atPath: deadFile))
            #expect(try await c.call(.get, "/v2/images/\(live)").json?["status"]?.stringValue == "saving")
            #expect(FileManager.default.fileExists(atPath: liveFile))
            // The dead write's image takes data again.
            #expect(try await c.call(.put, "/v2/images/\(dead)/file", data: [7]).code == 204)
        }
    }

    @Test func abandonedImportKeepsItsStagedData() async throws {
        try await ImageFixture.test { c, f in
            let id = try await c.image()
            #expect(try await c.call(.put, "/v2/images/\(id)/stage", data: [1, 2, 3, 4]).code == 204)
            let temp = f.dir + "/images/.\(id).gone-1.partial"
            try await lease(f, id, status: .importing, kind: "import", process: "gone:1", heartbeat: 0, files: [temp])
            await f.service.leases.reap()
            let image = try await c.call(.get, "/v2/images/\(id)").json
            #expect(image?["status"]?.stringValue == "uploading" && image?["size"]?.intValue == 4)
            #expect(!FileManager.default.fileExists(atPath: temp))
            #expect(try await c.call(.post, "/v2/images/\(id)/import", json: ["method": ["name": "glance-direct"]]).code == 202)
            var status = ""
            for _ in 0..<100 where status != "active" {
                try await Task.sleep(for: .milliseconds(20))
                status = try await c.call(.get, "/v2/images/\(id)").json?["status"]?.stringValue ?? ""
            }
            #expect(try await c.call(.get, "/v2/images/\(id)/file").bytes == [1, 2, 3, 4])
        }
    }

    @Test func metadataChangesNeverTouchAWriteInProgress() async throws {
        try await ImageFixture.test { c, f in
            let id = try await c.image()
            _ = try await f.service.db.write { sql in try await ImageStore().transition(id, from: [.queued], to: .saving, in: sql) }
            #expect(try await c.patch(id, [["op": "replace", "path": "/name", "value": "renamed"]]).code == 200)
            #expect(try await c.call(.put, "/v2/images/\(id)/tags/t").code == 204)
            let image = try await c.call(.get, "/v2/images/\(id)").json
            #expect(image?["status"]?.stringValue == "saving" && image?["name"]?.stringValue == "renamed")
        }
    }

    @Test func aDeletedImagesIdIsNeverReused() async throws {
        try await ImageFixture.test { c, _ in
            let id = try await c.image(["visibility": "public"])
            #expect(try await c.call(.delete, "/v2/images/\(id)").code == 204)
            let again = try await c.call(.post, "/v2/images", as: .member("p2"), json: ["id": .string(id), "visibility": "community"])
            #expect(again.code == 409)
            #expect(try await c.call(.get, "/v2/images/\(id)").code == 404)
        }
    }
}
