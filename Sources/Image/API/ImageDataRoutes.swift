import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SQLKit
import StratusCore

extension ImageRecord {
    /// Records complete data in the store: the image becomes `active`.
    mutating func record(_ written: ImageDataRoutes.Written, location: String) {
        status = .active
        size = written.size
        virtualSize = written.virtualSize
        checksum = written.md5
        hashAlgo = "sha512"
        hashValue = written.sha512
        self.location = location
    }
}

/// Image data: `PUT /v2/images/{id}/file` (upload), `GET …/file` (download, with `Range`) and
/// `PUT …/stage` (the first half of `glance-direct` import).
///
/// Data streams from the socket to a temporary file beside its final place, hashed and
/// inspected on the way; it is renamed into place and the image turned `active` only once it
/// is complete and durable. A failure at any point removes the file and returns the image to
/// `queued`, as glance v2 does. The image's lease row covers the whole write (see `UploadLeases`).
struct ImageDataRoutes {
    let service: ImageService

    func add(to routes: inout RouteTable) {
        routes.put("/v2/images/{id}/file", upload)
        routes.get("/v2/images/{id}/file", download)
        routes.put("/v2/images/{id}/stage", stage)
    }

    /// What a finished write produced.
    struct Written: Sendable {
        var size: Int64
        var md5: String
        var sha512: String
        var virtualSize: Int64?
    }

    /// The two writes of image data: an upload into the store (`queued → saving → active`) and a
    /// stage into the staging area (`queued → uploading`, `size` set; the import finishes it).
    enum Write: String {
        case upload, stage

        /// The status while the data streams.
        var during: ImageStatus { self == .upload ? .saving : .uploading }
    }

    @Sendable func upload(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try await write(.upload, request, ctx)
    }

    @Sendable func stage(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        guard service.settings.importMethods.contains("glance-direct") else {
            throw OpenStackError.notFound("'glance-direct' method is not available at this site.")
        }
        return try await write(.stage, request, ctx)
    }

    /// Takes the image from `queued` with its lease (one transaction), streams the body, renames
    /// the complete file into place and records it (one transaction); on any failure, removes the
    /// files and returns the image to `queued`.
    func write(_ kind: Write, _ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        try requireOctetStream(request)
        let declared = try declaredSize(request)
        let service = self.service
        let store = kind == .upload ? service.store : service.staging
        let temp = store.temporaryPath(of: id, writer: service.leases.writerName)
        let final = store.path(of: id)
        let image = try await service.write { sql -> ImageRecord in
            let (image, membership) = try await service.visibleImage(id, ctx, lock: true, in: sql)
            try service.enforce(ctx, "upload_image", on: image, member: membership?.member)
            guard image.status == .queued else {
                throw OpenStackError.conflict("Image status transition from \(image.status.rawValue) to \(kind.during.rawValue) is not allowed")
            }
            if kind == .upload { try Self.requireFormats(image) }
            try await checkQuota(image, adding: declared ?? 0, in: sql)
            guard try await ImageStore().transition(id, from: [.queued], to: kind.during, in: sql),
                try await service.leases.acquire(image: id, kind: kind.rawValue, paths: [temp, final], in: sql)
            else {
                throw OpenStackError.conflict("Image status transition from queued to \(kind.during.rawValue) is not allowed")
            }
            return image
        }
        service.leases.begin(id)
        defer { service.leases.end(id) }
        do {
            let written = try await receive(request, into: temp, image: image, declared: declared)
            try await FileStore.commit(temp, to: final)
            let location = store.location(of: id)
            let recorded = try await service.write { sql -> Bool in
                guard try await service.leases.release(image: id, in: sql), var current = try await ImageStore().find(id, lock: true, in: sql),
                    current.status == kind.during
                else { return false }
                if kind == .upload {
                    current.record(written, location: location)
                } else {
                    current.size = written.size
                }
                current.updatedAt = Clock.now
                try await ImageStore().update(current, in: sql)
                return true
            }
            guard recorded else {
                FileStore.remove(final)
                throw OpenStackError(
                    .gone,
                    "Image \(id) could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded."
                )
            }
            return .empty()
        } catch {
            FileStore.remove(temp)
            try? await restore(id, removing: final)
            throw error
        }
    }

    /// Returns an image whose write failed to `queued` and gives up its lease.
    func restore(_ id: String, removing path: String?) async throws {
        let service = self.service
        let released = try await service.write { sql -> Bool in
            guard try await service.leases.release(image: id, in: sql) else { return false }
            _ = try await ImageStore().transition(id, from: [.saving, .uploading], to: .queued, in: sql)
            return true
        }
        if released, let path { FileStore.remove(path) }
    }

    /// Streams the body to `path`: size limits, hashes and format inspection on the way.
    func receive(_ request: Request, into path: String, image: ImageRecord, declared: Int64?) async throws -> Written {
        let writer = try DataWriter(path: path)
        let cap = service.settings.imageSizeCap
        let quota = service.settings.userStorageQuota
        let used: Int64 =
            quota > 0 ? try await service.read { sql in try await ImageStore().usage(owner: image.owner ?? "", except: image.id, in: sql) } : 0
        do {
            for try await buffer in request.body {
                try await writer.write(buffer)
                if writer.received > cap {
                    throw OpenStackError(.contentTooLarge, "The incoming image is too large: The provided image is too large.")
                }
                if quota > 0, used + writer.received > quota {
                    throw OpenStackError(
                        .contentTooLarge,
                        "Image exceeds the storage quota: The size of the data \(writer.received) will exceed the limit. \(max(0, quota - used)) bytes remaining."
                    )
                }
            }
            if let declared, request.headers[.contentLength] != nil, writer.received != declared {
                throw OpenStackError.badRequest("The image data ended after \(writer.received) of \(declared) bytes.")
            }
            let (md5, sha512) = try await writer.finish()
            let virtualSize = try ImageFormatCheck(requireFormatMatch: service.settings.requireFormatMatch).check(
                declared: image.diskFormat ?? "raw",
                container: image.containerFormat ?? "bare",
                inspector: writer.inspector,
                size: writer.size
            )
            return Written(size: writer.size, md5: md5, sha512: sha512, virtualSize: virtualSize)
        } catch {
            writer.abort()
            throw error
        }
    }

    @Sendable func download(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let (image, membership) = try await service.read { sql in try await service.visibleImage(id, ctx, in: sql) }
        if image.status == .deactivated, !service.isAdmin(ctx) {
            throw OpenStackError.forbidden("The requested image has been deactivated. Image data download is forbidden.")
        }
        try service.enforce(ctx, "download_image", on: image, member: membership?.member)
        guard image.status == .active || image.status == .deactivated, let location = image.location,
            let path = service.store.path(location: location), let size = image.size
        else {
            return .empty()
        }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if let md5 = image.checksum { headers[HTTPField.Name("Content-MD5")!] = md5 }
        let fileIO = FileIO()
        if let range = request.headers[.range] ?? request.headers[.contentRange] {
            if range.contains(",") {
                throw OpenStackError.badRequest(
                    "Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead."
                )
            }
            guard let r = ByteRange.parse(range, size: size) else {
                let start = ByteRange.start(range)
                let detail =
                    start.map { $0 >= size } == true
                    ? "Invalid start position in Range header. Start position MUST be in the inclusive range [0, \(size - 1)]."
                    : "Invalid Range header."
                throw OpenStackError(.rangeNotSatisfiable, "The Range requested is not available. ", headers: [.contentRange: "bytes */\(size)"])
                    .detailed(detail)
            }
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
            headers[.contentLength] = String(r.count)
            let body = try await fileIO.loadFile(path: path, range: Int(r.lowerBound)...Int(r.upperBound), context: ctx, chunkLength: Self.readChunk)
            return Response(status: .partialContent, headers: headers, body: body)
        }
        headers[.contentLength] = String(size)
        let body = size == 0 ? ResponseBody() : try await fileIO.loadFile(path: path, context: ctx, chunkLength: Self.readChunk)
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Bytes read from the store per chunk of a download (larger reads than the default 128 KiB; the
    /// chunks in flight are what a download holds in memory).
    static let readChunk = 256 << 10

    // MARK: - Checks

    func requireOctetStream(_ request: Request) throws {
        guard let media = request.mediaType, media == "application/octet-stream" else {
            let type = request.headers[.contentType] ?? "None"
            throw OpenStackError(.unsupportedMediaType, "The request media type \(type) is not supported by this server. ")
                .detailed("Invalid content type \(type)")
        }
    }

    /// `x-openstack-image-size`, else `Content-Length`.
    func declaredSize(_ request: Request) throws -> Int64? {
        let text = request.headers[HTTPField.Name("x-openstack-image-size")!] ?? request.headers[.contentLength]
        guard let text else { return nil }
        guard let n = Int64(text), n >= 0 else { throw OpenStackError.badRequest("Invalid or missing image size in request headers.") }
        if n > service.settings.imageSizeCap {
            throw OpenStackError(.contentTooLarge, "The incoming image is too large: The provided image is too large.")
        }
        return n
    }

    static func requireFormats(_ image: ImageRecord) throws {
        let missing = [("disk_format", image.diskFormat), ("container_format", image.containerFormat)].filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty else {
            let noun = missing.count == 1 ? "Property" : "Properties"
            throw OpenStackError.badRequest("\(noun) \(missing.joined(separator: ", ")) must be set prior to saving data.")
        }
    }

    /// `user_storage_quota`: the owner's data plus `adding` must fit.
    func checkQuota(_ image: ImageRecord, adding: Int64, in sql: any SQLDatabase) async throws {
        let quota = service.settings.userStorageQuota
        guard quota > 0 else { return }
        let used = try await ImageStore().usage(owner: image.owner ?? "", except: image.id, in: sql)
        if used + adding > quota {
            throw OpenStackError(
                .contentTooLarge,
                "Image exceeds the storage quota: The size of the data \(adding) will exceed the limit. \(max(0, quota - used)) bytes remaining."
            )
        }
    }
}

/// One `Range: bytes=…` (or glance's `Content-Range: bytes a-b/*`) request against a size.
enum ByteRange {
    /// The first byte a range names, when it names one.
    static func start(_ header: String) -> Int64? {
        guard let eq = header.firstIndex(where: { $0 == "=" || $0 == " " }) else { return nil }
        let spec = header[header.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        return Int64(spec[..<dash])
    }

    static func parse(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        var spec = header.trimmingCharacters(in: .whitespaces)
        guard spec.hasPrefix("bytes") else { return nil }
        spec = String(spec.dropFirst(5)).trimmingCharacters(in: CharacterSet(charactersIn: "= "))
        if let slash = spec.firstIndex(of: "/") { spec = String(spec[..<slash]) }
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-"), size > 0 else { return nil }
        let a = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let b = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if a.isEmpty {
            guard let n = Int64(b), n > 0 else { return nil }
            return max(0, size - n)...(size - 1)
        }
        guard let start = Int64(a), start < size else { return nil }
        if b.isEmpty { return start...(size - 1) }
        guard let end = Int64(b), end >= start else { return nil }
        return start...min(end, size - 1)
    }
}
