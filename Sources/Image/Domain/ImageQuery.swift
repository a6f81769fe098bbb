/// What `GET /v2/images` asks for, parsed and checked: the caller's view of the catalogue,
/// the filters, the order and the page. Built by `ImageListQuery.parse` (API) and run by
/// `ImageStore.list`.
struct ImageQuery: Sendable {
    /// Whose images the caller may see: an admin sees every image; anyone else sees public
    /// images, its project's own, community images when asked, and shared images it is a member of.
    enum Viewer: Sendable, Equatable {
        case admin(project: String?)
        case project(String?)
    }

    /// A comparison on a timestamp or size (`gt:2024-01-01T00:00:00Z`).
    struct Comparison: Sendable, Equatable {
        enum Op: String, Sendable { case eq, neq, gt, gte, lt, lte }
        var op: Op
        var value: Int64
    }

    var viewer: Viewer
    /// nil: glance's default (everything but community images the caller does not own).
    var visibility: String?
    /// `accepted` by default; `all` for any.
    var memberStatus = "accepted"
    var ids: [String]?
    var names: [String]?
    var statuses: [String]?
    var owners: [String]?
    var diskFormats: [String]?
    var containerFormats: [String]?
    var tags: [String] = []
    var sizeMin: Int64?
    var sizeMax: Int64?
    var createdAt: [Comparison] = []
    var updatedAt: [Comparison] = []
    var protected: Bool?
    /// nil: hidden images are left out, as glance's default `os_hidden=false`.
    var hidden: Bool? = false
    var properties: [(String, [String])] = []
    var sort: [(key: String, ascending: Bool)] = [("created_at", false), ("id", false)]
    var limit = 25
    var marker: String?
}
