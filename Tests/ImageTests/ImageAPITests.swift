import Crypto
import Foundation
import HTTPTypes
import StratusCore
import Testing

@testable import Image

/// The images API in process: what a client sees of create, show, list, patch, delete, data and members.
@Suite struct ImageAPITests {
    @Test func versionDocumentsListGlancesVersionsInItsOrder() async throws {
        try await ImageFixture.test { c, _ in
            let root = try await c.call(.get, "/")
            #expect(root.code == 300)
            let ids = root.json?["versions"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids == ["v2.15", "v2.9", "v2.17", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"])
            #expect(try await c.call(.get, "/versions").code == 200)
        }
    }

    @Test func createShowsGlancesDefaultsAndRefusesReadOnlyAttributes() async throws {
        try await ImageFixture.test { c, _ in
            let r = try await c.call(.post, "/v2/images", as: .member("p1"), json: ["name": "cirros", "os_distro": "cirros"])
            #expect(r.code == 201)
            let image = r.json!
            #expect(image["visibility"]?.stringValue == "shared")
            #expect(image["status"]?.stringValue == "queued")
            #expect(image["owner"]?.stringValue == "p1")
            #expect(image["os_distro"]?.stringValue == "cirros")
            #expect(image["size"] == .null && image["checksum"] == .null && image["disk_format"] == .null)
            #expect(r.headers[.location] == "/v2/images/\(image["id"]!.stringValue!)")
            let readOnly = try await c.call(.post, "/v2/images", json: ["size": 5])
            #expect(readOnly.code == 403 && readOnly.message == "Attribute 'size' is read-only.")
            let reserved = try await c.call(.post, "/v2/images", json: ["os_glance_x": "1"])
            #expect(reserved.code == 403 && reserved.message == "Attribute 'os_glance_x' is reserved.")
            let badFormat = try await c.call(.post, "/v2/images", json: ["disk_format": "floppy"])
            #expect(badFormat.code == 400 && badFormat.message.contains("floppy"))
            let publicByMember = try await c.call(.post, "/v2/images", as: .member("p1"), json: ["visibility": "public"])
            #expect(publicByMember.code == 403)
            let foreignOwner = try await c.call(.post, "/v2/images", as: .member("p1"), json: ["owner": "p2"])
            #expect(foreignOwner.code == 403 && foreignOwner.message.contains("owned by 'p2'"))
            // Nothing of the refused requests was written.
            #expect(try await c.call(.get, "/v2/images").json?["images"]?.arrayValue?.count == 1)
        }
    }

    @Test func anotherProjectsPrivateImageIsNotFoundNotForbidden() async throws {
        try await ImageFixture.test { c, _ in
            let id = try await c.image(
                ["name": "secret", "visibility": "private", "disk_format": "raw", "container_format": "bare"],
                as: .member("p1")
            )
            #expect(try await c.call(.put, "/v2/images/\(id)/file", as: .member("p1"), data: [1, 2, 3]).code == 204)
            for (method, path) in [(HTTPRequest.Method.get, ""), (.get, "/file"), (.delete, "")] {
                #expect(try await c.call(method, "/v2/images/\(id)\(path)", as: .member("p2")).code == 404)
            }
            #expect(try await c.patch(id, [["op": "replace", "path": "/name", "value": "x"]], as: .member("p2")).code == 404)
            #expect(try await c.call(.get, "/v2/images", as: .member("p2")).json?["images"]?.arrayValue?.isEmpty == true)
            // A reader of the owning project sees it but may not change it.
            #expect(try await c.call(.get, "/v2/images/\(id)", as: .reader("p1")).code == 200)
            #expect(try await c.patch(id, [["op": "replace", "path": "/name", "value": "x"]], as: .reader("p1")).code == 403)
            #expect(try await c.call(.get, "/v2/images/\(id)").json?["name"]?.stringValue == "secret")
        }
    }

    @Test func jsonPatchFollowsGlancesRules() async throws {
        try await ImageFixture.test { c, _ in
            let id = try await c.image(["name": "a", "disk_format": "raw", "container_format": "bare"])
            let ok = try await c.patch(
                id,
                [
                    ["op": "add", "path": "/hw_disk_bus", "value": "virtio"], ["op": "replace", "path": "/min_ram", "value": 512],
                    ["op": "replace", "path": "/tags", "value": ["x", "y", "x"]],
                ]
            )
            #expect(ok.code == 200)
            #expect(ok.json?["hw_disk_bus"]?.stringValue == "virtio" && ok.json?["min_ram"]?.intValue == 512)
            #expect(Set(ok.json?["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["x", "y"])
            #expect(try await c.patch(id, [["op": "remove", "path": "/name"]]).code == 403)
            #expect(try await c.patch(id, [["op": "replace", "path": "/nope", "value": "1"]]).code == 409)
            #expect(try await c.patch(id, [["op": "remove", "path": "/nope"]]).code == 409)
            #expect(try await c.patch(id, [["op": "replace", "path": "/status", "value": "active"]]).code == 403)
            #expect(try await c.patch(id, [["op": "replace", "path": "/min_ram", "value": -1]]).code == 400)
            // Nothing half-applied: a failing operation after a good one leaves the image as it was.
            let mixed = try await c.patch(id, [["op": "replace", "path": "/name", "value": "b"], ["op": "remove", "path": "/nope"]])
            #expect(mixed.code == 409)
            #expect(try await c.call(.get, "/v2/images/\(id)").json?["name"]?.stringValue == "a")
            let wrongType = try await c.call(.patch, "/v2/images/\(id)", json: [], headers: [.contentType: "application/json"])
            #expect(wrongType.code == 415 && wrongType.headers[HTTPField.Name("Accept-Patch")!] != nil)
            let v20 = try await c.call(
                .patch,
                "/v2/images/\(id)",
                json: [["add": "/hw_disk_bus", "value": "scsi"]],
                headers: [.contentType: "application/openstack-images-v2.0-json-patch"]
            )
            #expect(v20.code == 409)
            #expect(try await c.patch(id, [["op": "remove", "path": "/hw_disk_bus"]]).json?["hw_disk_bus"] == nil)
        }
    }

    @Test func uploadHashesDataAndDownloadServesRanges() async throws {
        try await ImageFixture.test { c, f in
            let id = try await c.image()
            let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            #expect(try await c.call(.put, "/v2/images/\(id)/file", data: data).code == 204)
            let image = try await c.call(.get, "/v2/images/\(id)").json!
            #expect(image["status"]?.stringValue == "active" && image["size"]?.intValue == 300_000)
            #expect(image["virtual_size"]?.intValue == 300_000)
            #expect(image["checksum"]?.stringValue == ImageDigests.hex(Insecure.MD5.hash(data: data)))
            #expect(image["os_hash_value"]?.stringValue == ImageDigests.hex(SHA512.hash(data: data)))
            let download = try await c.call(.get, "/v2/images/\(id)/file")
            #expect(download.code == 200 && download.bytes == data)
            #expect(download.headers[HTTPField.Name("Content-MD5")!] == image["checksum"]?.stringValue)
            let range = try await c.call(.get, "/v2/images/\(id)/file", headers: [.range: "bytes=100-199"])
            #expect(range.code == 206 && range.bytes == Array(data[100...199]))
            #expect(range.headers[.contentRange] == "bytes 100-199/300000")
            #expect(try await c.call(.get, "/v2/images/\(id)/file", headers: [.range: "bytes=400000-"]).code == 416)
            let again = try await c.call(.put, "/v2/images/\(id)/file", data: [9, 9, 9])
            #expect(again.code == 409 && again.message == "Image status transition from active to saving is not allowed")
            #expect(try await c.call(.get, "/v2/images/\(id)/file").bytes == data)
            #expect(f.storeFiles == [id])
        }
    }

    @Test func emptyImageDownloadsAsNoContentAndUploadNeedsFormats() async throws {
        try await ImageFixture.test { c, f in
            let id = try await c.image([:])
            #expect(try await c.call(.get, "/v2/images/\(id)/file").code == 204)
            let r = try await c.call(.put, "/v2/images/\(id)/file", data: [1])
            #expect(r.code == 400 && r.message == "Properties disk_format, container_format must be set prior to saving data.")
            #expect(try await c.call(.get, "/v2/images/\(id)").json?["status"]?.stringValue == "queued")
            let text = try await c.call(.put, "/v2/images/\(id)/file", data: [1], headers: [.contentType: "text/plain"])
            #expect(text.code == 415)
            #expect(f.storeFiles.isEmpty)
        }
    }

    @Test func sizeCapRefusesAndLeavesNothingBehind() async throws {
        try await ImageFixture.test([("DEFAULT", "image_size_cap", "1000")]) { c, f in
            let id = try await c.image()
            let r = try await c.call(.put, "/v2/images/\(id)/file", data: Array(repeating: 1, count: 5000))
            #expect(r.code == 413)
            #expect(try await c.call(.get, "/v2/images/\(id)").json?["status"]?.stringValue == "queued")
            #expect(f.storeFiles.isEmpty)
            #expect(try await c.call(.put, "/v2/images/\(id)/file", data: Array(repeating: 1, count: 1000)).code == 204)
        }
    }

    @Test func declaredFormatMustMatchTheData() async throws {
        try await ImageFixture.test { c, f in
            let id = try await c.image(["disk_format": "qcow2", "container_format": "bare"])
            let r = try await c.call(.put, "/v2/images/\(id)/file", data: Array(repeating: 0, count: 70_000))
            #expect(r.code == 415 && r.message == "Image disk_format qcow2 does not match stream data raw")
            #expect(try await c.call(.get, "/v2/images/\(id)").json?["status"]?.stringValue == "queued")
            #expect(f.storeFiles.isEmpty)
        }
    }

    @Test func protectedImagesCannotBeDeleted() async throws {
        try await ImageFixture.test { c, _ in
            let id = try await c.image(["protected": true])
            let r = try await c.call(.delete, "/v2/images/\(id)")
            #expect(r.code == 403 && r.message == "Image \(id) is protected and cannot be deleted.")
            #expect(try await c.patch(id, [["op": "replace", "path": "/protected", "value": false]]).code == 200)
            #expect(try await c.call(.delete, "/v2/images/\(id)").code == 204)
            #expect(try await c.call(.get, "/v2/images/\(id)").code == 404)
        }
    }

    @Test func sharingNeedsTheMembersAcceptance() async throws {
        try await ImageFixture.test { c, _ in
            let id = try await c.image(["name": "shared", "disk_format": "raw", "container_format": "bare"], as: .member("p1"))
            let add = try await c.call(.post, "/v2/images/\(id)/members", as: .member("p1"), json: ["member": "p2"])
            #expect(add.code == 200 && add.json?["status"]?.stringValue == "pending")
            #expect(try await c.call(.post, "/v2/images/\(id)/members", as: .member("p1"), json: ["member": "p2"]).code == 409)
            // Pending: visible by id, not in the default list.
            #expect(try await c.call(.get, "/v2/images/\(id)", as: .member("p2")).code == 200)
            #expect(try await c.call(.get, "/v2/images", as: .member("p2")).json?["images"]?.arrayValue?.isEmpty == true)
            let pending = try await c.call(.get, "/v2/images?member_status=pending", as: .member("p2"))
            #expect(pending.json?["images"]?.arrayValue?.count == 1)
            // The member cannot add members; a third project sees nothing.
            #expect(try await c.call(.post, "/v2/images/\(id)/members", as: .member("p2"), json: ["member": "p3"]).code == 403)
            #expect(try await c.call(.get, "/v2/images/\(id)", as: .member("p3")).code == 404)
            let accept = try await c.call(.put, "/v2/images/\(id)/members/p2", as: .member("p2"), json: ["status": "accepted"])
            #expect(accept.code == 200 && accept.json?["status"]?.stringValue == "accepted")
            #expect(try await c.call(.get, "/v2/images", as: .member("p2")).json?["images"]?.arrayValue?.count == 1)
            // The owner may not answer for the member.
            #expect(try await c.call(.put, "/v2/images/\(id)/members/p2", as: .member("p1"), json: ["status": "rejected"]).code == 403)
            // A member changes nothing of the image.
            #expect(try await c.patch(id, [["op": "replace", "path": "/name", "value": "x"]], as: .member("p2")).code == 403)
            #expect(try await c.call(.delete, "/v2/images/\(id)", as: .member("p2")).code == 403)
            let list = try await c.call(.get, "/v2/images/\(id)/members", as: .member("p1"))
            #expect(list.json?["members"]?.arrayValue?.count == 1)
            #expect(try await c.call(.delete, "/v2/images/\(id)/members/p2", as: .member("p1")).code == 204)
            #expect(try await c.call(.get, "/v2/images/\(id)", as: .member("p2")).code == 404)
            // Only shared images have members.
            let priv = try await c.image(["visibility": "private"], as: .member("p1"))
            #expect(try await c.call(.post, "/v2/images/\(priv)/members", as: .member("p1"), json: ["member": "p2"]).code == 403)
        }
    }

    @Test func listsPageInOrderWithoutRepeats() async throws {
        try await ImageFixture.test { c, _ in
            var ids: [String] = []
            for i in 0..<7 { ids.append(try await c.image(["name": .string("img\(i % 3)"), "tags": i % 2 == 0 ? ["even"] : []])) }
            var seen: [String] = []
            var next: String? = "/v2/images?limit=3"
            while let path = next {
                let page = try await c.call(.get, path)
                #expect(page.code == 200)
                seen += page.json?["images"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                next = page.json?["next"]?.stringValue
            }
            #expect(seen.count == 7 && Set(seen) == Set(ids))
            let byName = try await c.call(.get, "/v2/images?sort=name:asc").json?["images"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(byName == byName?.sorted())
            #expect(try await c.call(.get, "/v2/images?tag=even").json?["images"]?.arrayValue?.count == 4)
            #expect(try await c.call(.get, "/v2/images?name=in:img0,img1").json?["images"]?.arrayValue?.count == 5)
            #expect(try await c.call(.get, "/v2/images?sort_key=bogus").code == 400)
            #expect(try await c.call(.get, "/v2/images?marker=nope").code == 400)
            #expect(try await c.call(.get, "/v2/images?limit=-1").code == 400)
        }
    }

    @Test func deactivatedImagesServeDataToAdminsOnly() async throws {
        try await ImageFixture.test { c, _ in
            let id = try await c.image(["visibility": "public", "disk_format": "raw", "container_format": "bare"])
            #expect(try await c.call(.put, "/v2/images/\(id)/file", data: [1, 2]).code == 204)
            #expect(try await c.call(.post, "/v2/images/\(id)/actions/deactivate").code == 204)
            #expect(try await c.call(.get, "/v2/images/\(id)/file", as: .member("p2")).code == 403)
            #expect(try await c.call(.get, "/v2/images/\(id)/file").code == 200)
            #expect(try await c.call(.post, "/v2/images/\(id)/actions/reactivate").code == 204)
            #expect(try await c.call(.get, "/v2/images/\(id)/file", as: .member("p2")).code == 200)
            let queued = try await c.image()
            #expect(try await c.call(.post, "/v2/images/\(queued)/actions/deactivate").code == 403)
        }
    }

    @Test func glanceDirectImportStagesThenActivates() async throws {
        try await ImageFixture.test { c, _ in
            let id = try await c.image()
            let data = Array(repeating: UInt8(7), count: 10_000)
            #expect(try await c.call(.post, "/v2/images/\(id)/import", json: ["method": ["name": "glance-direct"]]).code == 409)
            #expect(try await c.call(.put, "/v2/images/\(id)/stage", data: data).code == 204)
            let staged = try await c.call(.get, "/v2/images/\(id)").json!
            #expect(staged["status"]?.stringValue == "uploading" && staged["size"]?.intValue == 10_000)
            #expect(try await c.call(.post, "/v2/images/\(id)/import", json: ["method": ["name": "web-download"]]).code == 400)
            #expect(try await c.call(.post, "/v2/images/\(id)/import", json: ["method": ["name": "glance-direct"]]).code == 202)
            var status = ""
            for _ in 0..<100 {
                status = try await c.call(.get, "/v2/images/\(id)").json?["status"]?.stringValue ?? ""
                if status == "active" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(status == "active")
            #expect(try await c.call(.get, "/v2/images/\(id)/file").bytes == data)
            let tasks = try await c.call(.get, "/v2/images/\(id)/tasks").json?["tasks"]?.arrayValue ?? []
            #expect(tasks.count == 1 && tasks.first?["status"]?.stringValue == "success")
        }
    }
}
