import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SQLKit
import StratusCore

/// Interoperable import: `/v2/info/import`, `/v2/info/stores`, `POST /v2/images/{id}/import`
/// (`glance-direct`: the data staged by `PUT …/stage` is copied into the store, hashed and
/// inspected, by a task that runs in this process), `/v2/tasks` and `/v2/images/{id}/tasks`.
struct ImportRoutes {
    let service: ImageService

    func add(to routes: inout RouteTable) {
        routes.get("/v2/info/import", importInfo)
        routes.get("/v2/info/stores", storesInfo)
        routes.get("/v2/info/usage") { _, _ in .json(["usage": [:]]) }
        routes.post("/v2/images/{id}/import", importImage)
        routes.get("/v2/images/{id}/tasks", imageTasks)
        routes.get("/v2/tasks", listTasks)
        routes.get("/v2/tasks/{id}", showTask)
        routes.post("/v2/tasks", createTask)
    }

    @Sendable func importInfo(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        .json([
            "import-methods": [
                "description": "Import methods available.", "type": "array",
                "value": .array(service.settings.importMethods.map(JSON.string)),
            ]
        ])
    }

    @Sendable func storesInfo(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        throw OpenStackError.notFound("Multi backend is not supported at this site.")
    }

    @Sendable func importImage(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let caller = try ctx.requireCaller()
        let body = try await request.jsonBody(limit: ctx.bodyLimit)
        guard let method = body["method"] else { throw OpenStackError.badRequest("Import request requires a 'method' field.") }
        guard let name = method["name"] else { throw OpenStackError.badRequest("Import request requires a 'name' field.") }
        let methodName = name.stringValue ?? ImageRules.show(name)
        guard service.settings.importMethods.contains(methodName) else {
            throw OpenStackError.badRequest("Unknown import method name '\(methodName)'.")
        }
        for key in ["all_stores_must_succeed", "all_stores"] where body[key] != nil && body[key]?.boolValue == nil {
            throw OpenStackError.badRequest("'\(key)' must be boolean value only")
        }
        let service = self.service
        let taskID = UUID().uuidString.lowercased()
        let temp = service.store.temporaryPath(of: id, writer: service.leases.writerName)
        let final = service.store.path(of: id)
        let now = Clock.now
        let task = TaskRecord(
            id: taskID,
            type: "api_image_import",
            status: "processing",
            owner: caller.projectID ?? "",
            input: JSON.object(["image_id": .string(id), "import_req": body, "backend": [.null]]).serialized(),
            result: nil,
            message: "",
            imageID: id,
            requestID: ctx.requestID,
            userID: caller.userID,
            expiresAt: nil,
            createdAt: now,
            updatedAt: now
        )
        let image = try await service.write { sql -> ImageRecord in
            let (image, membership) = try await service.visibleImage(id, ctx, lock: true, in: sql)
            if image.status == .active { throw OpenStackError.conflict("Image with status active cannot be target for import") }
            guard image.status == .uploading else {
                throw OpenStackError.conflict("Image needs to be staged before 'glance-direct' method can be used")
            }
            if image.containerFormat == nil { throw OpenStackError.conflict("'container_format' needs to be set before import") }
            if image.diskFormat == nil { throw OpenStackError.conflict("'disk_format' needs to be set before import") }
            try service.enforce(ctx, "modify_image", on: image, member: membership?.member)
            guard try await ImageStore().transition(id, from: [.uploading], to: .importing, in: sql),
                try await service.leases.acquire(image: id, kind: "import", paths: [temp, final], in: sql)
            else {
                throw OpenStackError.conflict("New operation on image '\(id)' is not permitted as prior operation is still in progress")
            }
            try await TaskStore().insert(task, in: sql)
            return image
        }
        let run = ImportRun(service: service, image: image, taskID: taskID, staged: service.staging.path(of: id), temp: temp, final: final)
        service.leases.begin(id)
        let logger = ctx.logger
        service.imports.start(id) {
            await run.run(logger: logger)
            service.leases.end(id)
        }
        return .empty(.accepted)
    }

    @Sendable func imageTasks(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        let tasks = try await service.read { sql -> [TaskRecord] in
            _ = try await service.visibleImage(id, ctx, in: sql)
            return try await TaskStore().list(owner: nil, image: id, limit: 1000, in: sql)
        }
        return .json(["tasks": .array(tasks.map { TaskView.json($0, stub: false) })])
    }

    func requireTasksAccess(_ ctx: StratusContext) throws {
        let caller = try ctx.requireCaller()
        try service.authorize(ctx, "tasks_api_access", target: ["project_id": .optional(caller.projectID)])
    }

    @Sendable func listTasks(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try requireTasksAccess(ctx)
        var limit = service.settings.defaultLimit
        if let text = request.query("limit") {
            guard let n = Int(text) else { throw OpenStackError.badRequest("limit param must be an integer") }
            guard n >= 0 else { throw OpenStackError.badRequest("limit param must be positive") }
            limit = min(n, service.settings.maxLimit)
        }
        // An admin sees every task; anyone the policy lets in sees their project's.
        let owner = service.isAdmin(ctx) ? nil : (ctx.caller?.projectID ?? "")
        let pageSize = limit
        let tasks = try await service.read { sql in try await TaskStore().list(owner: owner, limit: pageSize, in: sql) }
        return .json(["tasks": .array(tasks.map { TaskView.json($0, stub: true) }), "first": "/v2/tasks", "schema": "/v2/schemas/tasks"])
    }

    @Sendable func showTask(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try requireTasksAccess(ctx)
        let id = try ctx.parameters.require("id")
        let found = try await service.read { sql in try await TaskStore().find(id, in: sql) }
        guard let task = found, service.isAdmin(ctx) || task.owner == ctx.caller?.projectID else {
            throw OpenStackError.notFound("Failed to find task \(id)")
        }
        return .json(TaskView.json(task, stub: false))
    }

    @Sendable func createTask(_ request: Request, _ ctx: StratusContext) async throws -> Response {
        try requireTasksAccess(ctx)
        throw OpenStackError.badRequest("Task type 'import' is not supported by Stratus; use interoperable image import.")
    }
}

/// A task as glance shows it (`_format_task`, or the stub in lists).
enum TaskView {
    static func json(_ t: TaskRecord, stub: Bool) -> JSON {
        var o: [String: JSON] = [
            "id": .string(t.id), "type": .string(t.type), "status": .string(t.status), "owner": .string(t.owner),
            "created_at": .string(Timestamp.render(t.createdAt)), "updated_at": .string(Timestamp.render(t.updatedAt)),
            "self": .string("/v2/tasks/\(t.id)"), "schema": "/v2/schemas/task",
        ]
        if let e = t.expiresAt { o["expires_at"] = .string(Timestamp.render(e)) }
        if stub { return .object(o) }
        o["input"] = (try? JSON.parse(Array(t.input.utf8))) ?? [:]
        o["result"] = t.result.flatMap { try? JSON.parse(Array($0.utf8)) } ?? .null
        o["message"] = .string(t.message)
        if let i = t.imageID { o["image_id"] = .string(i) }
        if let r = t.requestID { o["request_id"] = .string(r) }
        if let u = t.userID { o["user_id"] = .string(u) }
        return .object(o)
    }
}

/// One `glance-direct` import: copies the staged data into the store through a `DataWriter`
/// (hashes, inspection), renames it into place, turns the image `active` and the task `success`.
/// On failure the image goes back to `queued`, the task says why and the staged data is dropped
/// (only once that is recorded: if the database cannot be reached, the lease expires and the
/// image is staged again, its data kept).
struct ImportRun {
    let service: ImageService
    let image: ImageRecord
    let taskID: String
    let staged: String
    let temp: String
    let final: String

    func run(logger: Logger) async {
        let id = image.id
        let service = self.service
        do {
            let written = try await copy()
            try await FileStore.commit(temp, to: final)
            let location = service.store.location(of: id)
            let taskID = self.taskID
            let done = try await service.write { sql -> Bool in
                guard try await service.leases.release(image: id, in: sql), var current = try await ImageStore().find(id, lock: true, in: sql),
                    current.status == .importing
                else { return false }
                current.record(written, location: location)
                current.updatedAt = Clock.now
                // What glance leaves on an imported image (single store: no store names).
                current.properties["os_glance_importing_to_stores"] = ""
                current.properties["os_glance_failed_import"] = ""
                try await ImageStore().update(current, in: sql)
                try await TaskStore().finish(taskID, status: "success", message: "", result: #"{"image_id": "\#(id)"}"#, in: sql)
                return true
            }
            if !done { FileStore.remove(final) }
            FileStore.remove(staged)
        } catch {
            FileStore.remove(temp)
            let message = (error as? any OpenStackErrorConvertible)?.openStackError.message ?? "\(error)"
            logger.warning("image \(id): import failed: \(message)")
            let taskID = self.taskID
            let recorded = try? await service.write { sql -> Bool in
                guard try await service.leases.release(image: id, in: sql) else { return false }
                _ = try await ImageStore().transition(id, from: [.importing], to: .queued, in: sql)
                try await TaskStore().finish(taskID, status: "failure", message: message, result: nil, in: sql)
                return true
            }
            if recorded == true {
                FileStore.remove(final)
                FileStore.remove(staged)
            }
        }
    }

    /// Streams the staged file into the store's temporary file.
    func copy() async throws -> ImageDataRoutes.Written {
        let writer = try DataWriter(path: temp)
        do {
            guard let input = FileHandle(forReadingAtPath: staged) else {
                throw OpenStackError.conflict("The staged data of image \(image.id) is gone.")
            }
            defer { try? input.close() }
            while true {
                let chunk = try await NIOThreadPool.singleton.runIfActive { try input.read(upToCount: 1 << 20) ?? Data() }
                if chunk.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            let (md5, sha512) = try await writer.finish()
            let virtualSize = try ImageFormatCheck(requireFormatMatch: service.settings.requireFormatMatch).check(
                declared: image.diskFormat ?? "raw",
                container: image.containerFormat ?? "bare",
                inspector: writer.inspector,
                size: writer.size
            )
            return .init(size: writer.size, md5: md5, sha512: sha512, virtualSize: virtualSize)
        } catch {
            writer.abort()
            throw error
        }
    }
}
