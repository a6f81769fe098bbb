/// glance 33's rule on uploaded data (`ImageProxy.set_data` under `[image_format]
/// require_image_format_match`): the detected format must be the declared `disk_format` and
/// pass that format's safety checks.
struct ImageFormatCheck {
    var requireFormatMatch: Bool

    /// Data glance refuses: the status it answers (415) and its message.
    struct Refused: Error, Equatable {
        var status: Int
        var message: String
    }

    /// The virtual size to record (the data size for raw), or `Refused`.
    func check(declared: String, container: String, inspector: FormatInspector, size: Int64) throws(Refused) -> Int64? {
        var inspector = inspector
        let inspection = inspector.finish()
        switch FormatInspector.verdict(
            declared: declared,
            containerFormat: container,
            inspection: inspection,
            requireFormatMatch: requireFormatMatch
        ) {
        case .accepted(let virtualSize):
            return virtualSize ?? (declared == "raw" ? size : nil)
        case .refused(let status, let message):
            throw Refused(status: status, message: message)
        }
    }
}
