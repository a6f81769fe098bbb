/// What keystone checks of a new password before hashing it with bcrypt, plus one deliberate
/// difference (see docs/decisions.md, "Passwords"):
///
/// - bcrypt reads at most 72 bytes. keystone's `verify_length_and_trunc_password` caps
///   `[identity] max_password_length` at that for bcrypt: a longer password is used truncated
///   (keystone logs a warning), or refused with 403 `PasswordVerificationError` when
///   `[DEFAULT] strict_password_check` is set.
/// - bcrypt stops at the first NUL byte, so `"\u{0}anything"` would hash like the empty password.
///   keystone passes such passwords on; Stratus refuses them with 400.
enum PasswordRules {
    /// The most bytes bcrypt reads.
    static let bcryptMaxBytes = 72

    enum Verdict: Equatable {
        case accepted
        /// Longer than bcrypt reads; used truncated, with a warning.
        case truncated(bytes: Int)
        /// Refused with keystone's 403 (`strict_password_check`).
        case tooLong(limit: Int)
        /// Refused with 400: contains U+0000.
        case containsNUL
    }

    /// The verdict on a password someone sets (user create, update, change, bootstrap).
    static func check(_ password: String, maxPasswordLength: Int, strict: Bool) -> Verdict {
        if password.utf8.contains(0) { return .containsNUL }
        let limit = min(maxPasswordLength, bcryptMaxBytes)
        let bytes = password.utf8.count
        guard bytes > limit else { return .accepted }
        return strict ? .tooLong(limit: limit) : .truncated(bytes: bytes)
    }

    /// keystone's `PasswordVerificationError` text.
    static func tooLongMessage(limit: Int) -> String {
        "The password length must be less than or equal to \(limit). The server could not comply with the request because the password is invalid."
    }
}
