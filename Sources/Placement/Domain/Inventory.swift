/// One inventory record of a provider (also an `inventories` row, decoded as is).
struct InventoryRecord: Sendable, Equatable, Decodable {
    var resourceClass: String
    var total: Int
    var reserved: Int
    var minUnit: Int
    var maxUnit: Int
    var stepSize: Int
    var allocationRatio: Double
    var updatedAt: Int64 = 0

    /// What can be allocated: `(total - reserved) * allocation_ratio`, truncated as placement does.
    /// Clamped, since the schema allows ratios up to 3.4e38.
    var capacity: Int {
        let c = Double(total - reserved) * allocationRatio
        return c >= Double(Int.max) ? Int.max : Int(c)
    }
}
