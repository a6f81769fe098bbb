import SQLKit

extension SQLUpdateBuilder {
    /// PATCH semantics for one column: sets it only when the request gave a value (`nil` means the
    /// field was absent; a given `.some(nil)` of an optional column writes NULL). Returns whether
    /// it set anything, so a store runs the UPDATE only when some column changed.
    @discardableResult
    public func set<Value: Encodable & Sendable>(_ column: String, ifGiven value: Value?) -> Bool {
        guard let value else { return false }
        set(column, to: value)
        return true
    }
}
