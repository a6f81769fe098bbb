import SQLKit
import StratusStorage

/// `image_members`: the projects a shared image is offered to, and their answers.
struct MemberStore: Sendable {
    static let columns = ["image_id", "member", "status", "created_at", "updated_at"]

    func list(image: String, in sql: any SQLDatabase) async throws -> [MemberRecord] {
        try await sql.select().columns(Self.columns).from("image_members").where("image_id", .equal, image).orderBy("created_at").orderBy("member")
            .all().map { try $0.decode(MemberRecord.self) }
    }

    func find(image: String, member: String, in sql: any SQLDatabase) async throws -> MemberRecord? {
        try await sql.select().columns(Self.columns).from("image_members").where("image_id", .equal, image).where("member", .equal, member)
            .first()?.decode(MemberRecord.self)
    }

    func count(image: String, in sql: any SQLDatabase) async throws -> Int {
        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("image_members")
            .where("image_id", .equal, image).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    func insert(_ m: MemberRecord, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "image_members").columns(Self.columns)
            .values(SQLBind(m.imageID), SQLBind(m.member), SQLBind(m.status.rawValue), SQLBind(m.createdAt), SQLBind(m.updatedAt)).run()
    }

    func setStatus(image: String, member: String, status: MemberRecord.Status, in sql: any SQLDatabase) async throws {
        try await sql.update("image_members").set("status", to: status.rawValue).set("updated_at", to: Clock.now)
            .where("image_id", .equal, image).where("member", .equal, member).run()
    }

    func delete(image: String, member: String, in sql: any SQLDatabase) async throws {
        try await sql.delete(from: "image_members").where("image_id", .equal, image).where("member", .equal, member).run()
    }
}
