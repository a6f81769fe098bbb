import HTTPTypes
import StratusCore

/// glance 33's rule on uploaded data (`ImageProxy.set_data` under `[image_format]
/// require_image_format_match`): the detected format must be the declared `disk_format` and
/// pass that format's safety checks. Returns the virtual size to record (the data size for raw).
struct ImageFormatCheck {
    var settings: ImageSettings

    func check(declared: String, container: String, inspector: FormatInspector, size: Int64) throws -> Int64? {
        var inspector = inspector
        let inspection = inspector.finish()
        switch FormatInspector.verdict(
            declared: declared,
            containerFormat: container,
            inspection: inspection,
            requireFormatMatch: settings.requireFormatMatch
        ) {
        case .accepted(let virtualSize):
            return virtualSize ?? (declared == "raw" ? size : nil)
        case .refused(let status, let message):
            throw OpenStackError(.init(code: status), message)
        }
    }
}
