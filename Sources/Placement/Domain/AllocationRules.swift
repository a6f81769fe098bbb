/// Whether an allocation fits a provider's inventory, as placement checks it before it writes
/// allocations: the amount respects `min_unit`, `max_unit` and `step_size`, and the provider's
/// usage with it stays within `(total - reserved) * allocation_ratio`.
enum AllocationRules {
    /// Why an allocation does not fit.
    enum Violation: Equatable, Sendable {
        /// The provider has no inventory of the class.
        case noInventory
        /// The amount breaks min_unit, max_unit or step_size.
        case constraints
        /// Usage would exceed capacity.
        case capacity
    }

    /// Checks `amount` more units on top of `used` against `inventory` (nil: none of that class).
    static func check(amount: Int, used: Int, inventory: InventoryRecord?) -> Violation? {
        guard let inv = inventory else { return .noInventory }
        if amount < inv.minUnit || amount > inv.maxUnit || amount % inv.stepSize != 0 { return .constraints }
        if used + amount > inv.capacity { return .capacity }
        return nil
    }

    /// The same check for the amounts requested together (several consumers, one write): each
    /// allocation's constraints alone, then the provider's total.
    static func check(amounts: [Int], used: Int, inventory: InventoryRecord?) -> Violation? {
        guard let inv = inventory else { return .noInventory }
        for a in amounts where a < inv.minUnit || a > inv.maxUnit || a % inv.stepSize != 0 { return .constraints }
        if used + amounts.reduce(0, +) > inv.capacity { return .capacity }
        return nil
    }
}
