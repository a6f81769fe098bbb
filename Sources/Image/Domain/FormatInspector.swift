// Streaming disk-image format inspection, behaving like the inspector glance 33
// runs on uploads (oslo.utils `imageutils.format_inspector`, wrapped by
// glance's `ImageProxy.set_data`). Written from the on-disk format specs; the
// detected names, virtual-size rules and safety-check wording follow
// oslo.utils so that Stratus accepts and refuses exactly the same images.
//
// Streaming model: bytes are regrouped into 64 KiB blocks — the read size of
// glance_store's filesystem driver — and finish() adds the final empty read
// glance_store performs, so the outcome does not depend on how the caller
// splits its data. Retained memory is bounded: the 64 KiB staging block,
// 512-byte headers, the ISO volume descriptor (2 KiB), the VHDX region table,
// metadata table and size item (64 KiB each), and the VMDK descriptor
// (at most 1 MiB - 1) plus its 1.5 KiB stream tail: about 1.3 MiB worst case.

/// Feeds image bytes through every known format probe as they stream past.
public struct FormatInspector: Sendable {
    /// Bytes handed to the probes at a time (glance_store's read size).
    public static let blockSize = 65_536
    /// Formats glance can inspect; any other declared disk_format (ami, ari,
    /// aki, ploop, ...) is accepted when the data is not recognised.
    public static let inspectableFormats: Set<String> = [
        "raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso", "gpt", "luks",
    ]
    /// HTTP status glance 33 uses for every refusal below (415, with the message as detail).
    public static let refusalStatus = 415

    private var staged: [UInt8] = []
    private var probes: [any FormatProbe] = [
        QcowProbe(), VhdProbe(), VhdxProbe(), VmdkProbe(), VdiProbe(),
        QedProbe(), IsoProbe(), GptProbe(), LuksProbe(),
    ]
    private var broken = Array(repeating: false, count: 9)
    private var total: Int64 = 0
    private var ended = false

    public init() { staged.reserveCapacity(Self.blockSize) }

    /// Present the next piece of the stream. Bytes given after finish() are ignored.
    public mutating func feed(_ bytes: some Collection<UInt8>) {
        guard !ended else { return }
        var cursor = bytes.startIndex
        while cursor != bytes.endIndex {
            let room = Self.blockSize - staged.count
            let stop = bytes.index(cursor, offsetBy: room, limitedBy: bytes.endIndex) ?? bytes.endIndex
            staged.append(contentsOf: bytes[cursor..<stop])
            cursor = stop
            if staged.count == Self.blockSize {
                dispatch(staged[...])
                staged.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Mark the end of the stream and report what was found. Idempotent.
    public mutating func finish() -> Inspection {
        if !ended {
            if !staged.isEmpty { dispatch(staged[...]) }
            staged = []
            dispatch([UInt8]()[...])
            for index in probes.indices { probes[index].streamEnded() }
            ended = true
        }
        var matches: [Report] = []
        var probeFailed = false
        for probe in probes {
            do {
                if try probe.matches() { matches.append(Self.report(probe)) }
            } catch {
                probeFailed = true
            }
        }
        return Inspection(totalBytes: total, matches: matches, probingFailed: probeFailed)
    }

    private mutating func dispatch(_ block: ArraySlice<UInt8>) {
        total += Int64(block.count)
        for index in probes.indices where !broken[index] {
            probes[index].consumed += Int64(block.count)
            do { try probes[index].take(block) } catch { broken[index] = true }
        }
    }

    private static func report(_ probe: any FormatProbe) -> Report {
        let safety: Safety
        if !probe.isComplete {
            safety = .incomplete
        } else {
            let failures = probe.safetyFailures()
            safety = failures.isEmpty ? .passed : .failed(failures)
        }
        var size: Int64?
        var oversized = false
        do { size = try probe.virtualSize() } catch let error as ProbeError { oversized = error.oversized } catch {}
        return Report(
            name: probe.name,
            virtualSize: size,
            virtualSizeOverflows: oversized,
            actualSize: probe.consumed,
            safety: safety
        )
    }
}

// MARK: - Results

extension FormatInspector {
    public struct SafetyFailure: Sendable, Equatable {
        /// oslo check name: backing_file, data_file, unknown_features, descriptor, footer, mbr, version, banned.
        public let check: String
        public let reason: String
    }

    public enum Safety: Sendable, Equatable {
        case passed
        /// The stream ended before the format's structures were read.
        case incomplete
        case failed([SafetyFailure])
    }

    /// What one matching format probe concluded.
    public struct Report: Sendable, Equatable {
        public let name: String
        /// Virtual size in bytes; 0 means unknown, nil means the header could not be read for it.
        public let virtualSize: Int64?
        /// The header states a size beyond Int64 (glance would keep it; Stratus cannot).
        public var virtualSizeOverflows = false
        /// Bytes this probe saw (it stops at the first structural error).
        public let actualSize: Int64
        public let safety: Safety
    }

    public enum Detection: Sendable, Equatable {
        case single(Report)
        /// More than one format matched (other than the tolerated iso+gpt pair).
        case multiple([String])
        /// A probe could not decide (oslo raised while matching).
        case failed
    }

    public struct Inspection: Sendable, Equatable {
        public let totalBytes: Int64
        /// Non-raw formats whose signature matched, in oslo's format order.
        public let matches: [Report]
        public let probingFailed: Bool

        public var detection: Detection {
            if probingFailed { return .failed }
            let names = matches.map(\.name)
            if names.isEmpty {
                return .single(
                    Report(
                        name: "raw",
                        virtualSize: totalBytes,
                        virtualSizeOverflows: false,
                        actualSize: totalBytes,
                        safety: .passed
                    )
                )
            }
            if Set(names) == ["iso", "gpt"], let iso = matches.first(where: { $0.name == "iso" }) {
                return .single(iso)
            }
            if let only = matches.first, matches.count == 1 { return .single(only) }
            return .multiple(names)
        }

        /// Detected disk format name ("raw" when nothing matched); nil if undecidable.
        public var format: String? {
            if case .single(let report) = detection { return report.name }
            return nil
        }

        /// Virtual size of the detected format; nil for raw, unknown or unreadable sizes.
        public var virtualSize: Int64? {
            guard case .single(let report) = detection, report.name != "raw",
                let size = report.virtualSize, size != 0
            else { return nil }
            return size
        }

        /// Reasons the detected format fails its safety checks; empty when it passes.
        public func safetyCheck() -> [String] {
            switch detection {
            case .single(let report):
                switch report.safety {
                case .passed: return []
                case .incomplete: return [Messages.incomplete]
                case .failed(let failures): return failures.map(\.reason)
                }
            case .multiple(let names): return [Messages.multiple(names)]
            case .failed: return [Messages.inspectionFailed]
            }
        }
    }

    public enum Verdict: Sendable, Equatable {
        /// Store the image; set virtual_size when non-nil.
        case accepted(virtualSize: Int64?)
        case refused(status: Int, message: String)
    }

    enum Messages {
        static let incomplete = "Incomplete file cannot be safety checked"
        static let unsafe = "Image failed safety checks"
        static let inspectionFailed = "Image format inspection failed"
        static func multiple(_ names: [String]) -> String {
            "Multiple formats detected: \(names.joined(separator: ","))"
        }
        static func mismatch(_ declared: String, _ found: String) -> String {
            "Image disk_format \(declared) does not match stream data \(found)"
        }
    }

    /// Glance 33's decision after an upload (`ImageProxy.set_data`).
    /// - Parameters:
    ///   - requireFormatMatch: `[image_format] require_image_format_match` (default true).
    ///   - gptNonfatalChecks: `[image_format] gpt_safety_checks_nonfatal` (default empty).
    public static func verdict(
        declared diskFormat: String,
        containerFormat: String,
        inspection: Inspection,
        requireFormatMatch: Bool = true,
        gptNonfatalChecks: Set<String> = []
    ) -> Verdict {
        // Only bare containers are inspected.
        guard containerFormat == "bare" else { return .accepted(virtualSize: nil) }
        var size: Int64 = 0
        func lenient(_ message: String) -> Verdict {
            requireFormatMatch
                ? .refused(status: refusalStatus, message: message)
                : .accepted(virtualSize: size == 0 ? nil : size)
        }
        let report: Report
        switch inspection.detection {
        case .failed: return lenient(Messages.inspectionFailed)
        case .multiple(let names): return lenient(Messages.multiple(names))
        case .single(let found): report = found
        }
        var unstorableSize = false
        if report.name == diskFormat {
            if report.virtualSizeOverflows {
                unstorableSize = true  // checked after safety, as glance would fail on storing it
            } else {
                guard let readable = report.virtualSize else { return lenient(Messages.inspectionFailed) }
                size = readable
            }
        } else if report.name == "raw" && !inspectableFormats.contains(diskFormat) {
            // e.g. ami/aki/ari/ploop: not inspectable, unrecognised data passes.
        } else if diskFormat == "raw" {
            size = report.actualSize
        } else {
            return lenient(Messages.mismatch(diskFormat, report.name))
        }
        switch report.safety {
        case .passed: break
        case .incomplete: return lenient(Messages.incomplete)
        case .failed(let failures):
            let fatal = Set(failures.map(\.check)).subtracting(gptNonfatalChecks)
            if report.name != "gpt" || !fatal.isEmpty {
                return .refused(status: refusalStatus, message: Messages.unsafe)
            }
        }
        if unstorableSize { return lenient(Messages.inspectionFailed) }
        return .accepted(virtualSize: size == 0 ? nil : size)
    }
}

// MARK: - Capture machinery

private struct ProbeError: Error {
    let reason: String
    var oversized = false
}

/// Collects `length` bytes starting at a stream offset, across any chunking.
/// With a `minimum`, it counts as complete (and stops collecting) once that many bytes are held.
private struct CaptureWindow: Sendable {
    let offset: Int64
    var length: Int
    var minimum: Int?
    var keepsBytes = true
    private(set) var bytes: [UInt8] = []
    private(set) var captured = 0

    init(offset: Int64, length: Int, minimum: Int? = nil, keepsBytes: Bool = true) {
        self.offset = min(max(offset, 0), Int64.max / 4)
        self.length = max(length, 0)
        self.minimum = minimum
        self.keepsBytes = keepsBytes
    }

    var isComplete: Bool {
        if let minimum { return captured >= minimum }
        return captured == length
    }

    /// `end` is the stream position just after `chunk`.
    mutating func take(_ chunk: ArraySlice<UInt8>, endingAt end: Int64) {
        guard !isComplete else { return }
        let start = end - Int64(chunk.count)
        let coversStart = start <= offset && offset <= end
        let continues = offset <= start && start <= offset + Int64(length)
        guard coversStart || continues else { return }
        let skip = start < offset ? Int(offset - start) : 0
        let wanted = min(length - captured, chunk.count - skip)
        guard wanted > 0 else { return }
        let from = chunk.startIndex + skip
        if keepsBytes { bytes.append(contentsOf: chunk[from..<(from + wanted)]) }
        captured += wanted
    }

    /// Stop at what has been collected so far.
    mutating func closeHere() {
        length = captured
        minimum = nil
    }
}

/// Keeps the last `size` bytes of the stream.
private struct TailWindow: Sendable {
    let size: Int
    private(set) var bytes: [UInt8] = []
    var streamEnded = false

    init(size: Int) { self.size = size }

    var isComplete: Bool { streamEnded && bytes.count == size }

    mutating func take(_ chunk: ArraySlice<UInt8>) {
        if chunk.count >= size {
            bytes = Array(chunk.suffix(size))
        } else {
            bytes.append(contentsOf: chunk)
            if bytes.count > size { bytes.removeFirst(bytes.count - size) }
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func little(_ at: Int, _ width: Int) -> UInt64? {
        guard at >= 0, width <= 8, at + width <= count else { return nil }
        var value: UInt64 = 0
        for index in stride(from: at + width - 1, through: at, by: -1) { value = value << 8 | UInt64(self[index]) }
        return value
    }

    fileprivate func big(_ at: Int, _ width: Int) -> UInt64? {
        guard at >= 0, width <= 8, at + width <= count else { return nil }
        var value: UInt64 = 0
        for index in at..<(at + width) { value = value << 8 | UInt64(self[index]) }
        return value
    }

    fileprivate func byte(_ at: Int) -> UInt8 { at >= 0 && at < count ? self[at] : 0 }

    fileprivate func has(_ expected: [UInt8], at: Int = 0) -> Bool {
        guard at >= 0, at + expected.count <= count else { return false }
        return self[at..<(at + expected.count)].elementsEqual(expected)
    }
}

private func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    var index = haystack.startIndex
    while index + needle.count <= haystack.endIndex {
        if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        index += 1
    }
    return nil
}

private func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

// MARK: - Format probes

private protocol FormatProbe: Sendable {
    var name: String { get }
    /// Bytes presented to this probe (oslo's running total).
    var consumed: Int64 { get set }
    var isComplete: Bool { get }
    /// Take the next block; `consumed` already includes it. Throws on structural errors.
    mutating func take(_ block: ArraySlice<UInt8>) throws
    mutating func streamEnded()
    func matches() throws -> Bool
    func virtualSize() throws -> Int64
    func safetyFailures() -> [FormatInspector.SafetyFailure]
}

extension FormatProbe {
    mutating func streamEnded() {}
    func virtualSize() throws -> Int64 { consumed }
}

private func failure(_ check: String, _ reason: String) -> FormatInspector.SafetyFailure {
    FormatInspector.SafetyFailure(check: check, reason: reason)
}

private func exactSize(_ value: UInt64?) throws -> Int64 {
    guard let value else { throw ProbeError(reason: "size unreadable") }
    guard let size = Int64(exactly: value) else { throw ProbeError(reason: "size beyond Int64", oversized: true) }
    return size
}

/// QEMU copy-on-write v2/v3 (v1 is matched too and refused as unsupported).
private struct QcowProbe: FormatProbe {
    let name = "qcow2"
    var consumed: Int64 = 0
    var header = CaptureWindow(offset: 0, length: 512)
    var isComplete: Bool { header.isComplete }

    mutating func take(_ block: ArraySlice<UInt8>) throws { header.take(block, endingAt: consumed) }
    func matches() -> Bool { header.isComplete && header.bytes.has([0x51, 0x46, 0x49, 0xFB]) }
    func virtualSize() throws -> Int64 {
        guard matches() else { return 0 }
        return try exactSize(header.bytes.big(24, 8))
    }

    func safetyFailures() -> [FormatInspector.SafetyFailure] {
        let fields = header.bytes
        var found: [FormatInspector.SafetyFailure] = []
        if fields.big(8, 8) != 0 { found.append(failure("backing_file", "Image has a backing file")) }
        // Incompatible feature bits occupy bytes 0x48...0x4F (big endian); bit 2 is "external data file".
        let lowFeatureByte = fields.byte(0x4F)
        if lowFeatureByte & 0x04 != 0 { found.append(failure("data_file", "Image has data_file set")) }
        switch fields.big(4, 4) {
        case 2: break
        case 3:
            let highBytesSet = (0x48..<0x4F).contains { fields.byte($0) != 0 }
            if highBytesSet || lowFeatureByte & 0xF0 != 0 {
                found.append(failure("unknown_features", "Unknown QCOW2 features found"))
            }
        default: found.append(failure("unknown_features", "Unsupported qcow2 version"))
        }
        return found
    }
}

/// Connectix / Microsoft VHD ("vpc"): footer copy at the start of the file.
private struct VhdProbe: FormatProbe {
    let name = "vhd"
    var consumed: Int64 = 0
    var header = CaptureWindow(offset: 0, length: 512)
    var isComplete: Bool { header.isComplete }

    mutating func take(_ block: ArraySlice<UInt8>) throws { header.take(block, endingAt: consumed) }
    func matches() -> Bool { header.bytes.has(ascii("conectix")) }
    func virtualSize() throws -> Int64 {
        guard header.isComplete, matches() else { return 0 }
        return try exactSize(header.bytes.big(40, 8))
    }
    func safetyFailures() -> [FormatInspector.SafetyFailure] { [] }
}

/// Microsoft VHDX: identifier, region table at 192 KiB, metadata table, virtual-disk-size item.
private struct VhdxProbe: FormatProbe {
    static let metadataRegionGUID: [UInt8] = [
        0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E,
    ]
    static let virtualDiskSizeGUID: [UInt8] = [
        0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8,
    ]
    static let tableLimit = 2048
    let name = "vhdx"
    var consumed: Int64 = 0
    var ident = CaptureWindow(offset: 0, length: 32)
    var regionTable = CaptureWindow(offset: 192 * 1024, length: 64 * 1024)
    var metadata: CaptureWindow?
    var sizeItem: CaptureWindow?

    var isComplete: Bool {
        ident.isComplete && regionTable.isComplete
            && (metadata?.isComplete ?? true) && (sizeItem?.isComplete ?? true)
    }

    mutating func take(_ block: ArraySlice<UInt8>) throws {
        ident.take(block, endingAt: consumed)
        regionTable.take(block, endingAt: consumed)
        metadata?.take(block, endingAt: consumed)
        sizeItem?.take(block, endingAt: consumed)
        // A structure located from this block may itself start inside the block.
        if regionTable.isComplete && metadata == nil {
            if var located = try locateMetadata() {
                located.take(block, endingAt: consumed)
                metadata = located
            }
        } else if let table = metadata, sizeItem == nil {
            if var located = try locateSizeItem(in: table) {
                metadata?.closeHere()
                located.take(block, endingAt: consumed)
                sizeItem = located
            }
        }
    }

    private func locateMetadata() throws -> CaptureWindow? {
        let table = regionTable.bytes
        guard table.little(0, 4) == 0x6967_6572 else { throw ProbeError(reason: "Region signature not found at 30000") }
        let entries = Int(table.little(8, 4) ?? 0)
        guard entries < Self.tableLimit else { throw ProbeError(reason: "Region count over limit") }
        for entry in 0..<entries {
            let start = 16 + entry * 32
            guard table.has(Self.metadataRegionGUID, at: start) else { continue }
            guard let offset = table.little(start + 16, 8) else { throw ProbeError(reason: "short entry") }
            return CaptureWindow(offset: Int64(clamping: offset), length: Self.tableLimit * 32)
        }
        return nil
    }

    private func locateSizeItem(in table: CaptureWindow) throws -> CaptureWindow? {
        let data = table.bytes
        guard data.count >= 32 else { return nil }
        guard data.has(ascii("metadata")) else { throw ProbeError(reason: "Invalid signature for metadata region") }
        let entries = Int(data.little(10, 2) ?? 0)
        guard data.count >= 32 + entries * 32 else { return nil }
        guard entries < Self.tableLimit else { throw ProbeError(reason: "Metadata item count over limit") }
        for entry in 0..<entries {
            let start = 32 + entry * 32
            guard data.has(Self.virtualDiskSizeGUID, at: start),
                let itemOffset = data.little(start + 16, 4), let itemLength = data.little(start + 20, 4)
            else { continue }
            return CaptureWindow(
                offset: table.offset + Int64(itemOffset),
                length: Int(min(itemLength, UInt64(Self.tableLimit * 32)))
            )
        }
        return nil
    }

    func matches() -> Bool { ident.bytes.has(ascii("vhdxfile")) }

    func virtualSize() throws -> Int64 {
        guard let item = sizeItem, item.isComplete else { return 0 }
        guard item.bytes.count == 8 else { throw ProbeError(reason: "size item is not 8 bytes") }
        return try exactSize(item.bytes.little(0, 8))
    }

    func safetyFailures() -> [FormatInspector.SafetyFailure] { [] }
}

/// VMware VMDK: sparse-extent header plus text descriptor, or a bare text descriptor.
private struct VmdkProbe: FormatProbe {
    static let descriptorLimit = (1 << 20) - 1
    static let allowedTypes = [ascii("monolithicsparse"), ascii("streamoptimized")]
    let name = "vmdk"
    var consumed: Int64 = 0
    var header: CaptureWindow? = CaptureWindow(offset: 0, length: 512, minimum: 64)
    var descriptor = CaptureWindow(offset: 0, length: VmdkProbe.descriptorLimit, minimum: 4)
    var footer: TailWindow?
    /// Lower-cased descriptor text, set once a descriptor decodes as ASCII.
    var descriptorText: [UInt8]?
    var createType: [UInt8]?

    var isComplete: Bool {
        (header?.isComplete ?? true) && descriptor.isComplete && (footer?.isComplete ?? true)
    }

    mutating func take(_ block: ArraySlice<UInt8>) throws {
        let descriptorWasComplete = descriptor.isComplete
        header?.take(block, endingAt: consumed)
        descriptor.take(block, endingAt: consumed)
        footer?.take(block)
        let (addedFooter, movedDescriptor) = try readSparseHeader()
        if addedFooter { footer?.take(block) }
        if movedDescriptor { descriptor.take(block, endingAt: consumed) }
        if descriptor.isComplete && (movedDescriptor || !descriptorWasComplete) { parseDescriptor() }
    }

    mutating func streamEnded() { footer?.streamEnded = true }

    private static func isText(_ byte: UInt8) -> Bool {
        (0x09...0x0D).contains(byte) || (0x1C...0x7E).contains(byte)
    }

    /// Returns whether a footer window was added and whether the descriptor window moved.
    private mutating func readSparseHeader() throws -> (Bool, Bool) {
        guard let window = header, window.isComplete else { return (false, false) }
        let fields = window.bytes
        guard fields.has(ascii("KDMV")) else {
            if fields.allSatisfy(Self.isText) {
                header = nil  // a plain-text descriptor file
                return (false, false)
            }
            throw ProbeError(reason: "Signature KDMV not found")
        }
        guard let version = fields.little(4, 4), (1...3).contains(version) else {
            throw ProbeError(reason: "Unsupported format version")
        }
        var addedFooter = false
        if fields.little(56, 8) == UInt64.max && footer == nil {
            footer = TailWindow(size: 1536)
            addedFooter = true
        }
        let (offset, overflow) = (fields.little(28, 8) ?? 0).multipliedReportingOverflow(by: 512)
        guard !overflow, offset == 0x200 else { throw ProbeError(reason: "Wrong descriptor location") }
        let (length, tooLong) = (fields.little(36, 8) ?? 0).multipliedReportingOverflow(by: 512)
        let capped = tooLong ? Self.descriptorLimit : Int(min(length, UInt64(Self.descriptorLimit)))
        guard descriptor.offset == 0 else { return (addedFooter, false) }
        descriptor = CaptureWindow(offset: 0x200, length: capped)
        return (addedFooter, true)
    }

    private mutating func parseDescriptor() {
        var raw = descriptor.bytes[...]
        if let end = raw.firstIndex(of: 0) { raw = raw[..<end] }
        guard raw.allSatisfy({ $0 < 0x80 }) else { return }
        let text = raw.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        let key = ascii("createtype=\"")
        var kind = ascii("formatnotfound")
        if let keyAt = find(key, in: text[...]) {
            let start = keyAt + key.count
            if let close = text[start...].firstIndex(of: 0x22) {
                if close - start < 64 { kind = Array(text[start..<close]) }
            } else {
                // No closing quote: everything but the final character.
                kind = start < text.count - 1 ? Array(text[start..<(text.count - 1)]) : []
            }
        }
        descriptorText = text
        createType = kind
    }

    func matches() throws -> Bool {
        if let window = header { return window.bytes.has(ascii("KDMV")) }
        guard let kind = createType else { throw ProbeError(reason: "descriptor undecodable") }
        return kind != ascii("formatnotfound")
    }

    func virtualSize() throws -> Int64 {
        guard let text = descriptorText, !text.isEmpty, let kind = createType,
            Self.allowedTypes.contains(kind)
        else { return 0 }
        guard let fields = header?.bytes, fields.count >= 44, let sectors = fields.little(12, 8) else {
            throw ProbeError(reason: "no sparse header")
        }
        let (bytes, overflow) = sectors.multipliedReportingOverflow(by: 512)
        guard !overflow else { throw ProbeError(reason: "size beyond Int64", oversized: true) }
        return try exactSize(bytes)
    }

    func safetyFailures() -> [FormatInspector.SafetyFailure] {
        var found: [FormatInspector.SafetyFailure] = []
        if let reason = descriptorProblem() { found.append(failure("descriptor", reason)) }
        if let tail = footer, let reason = footerProblem(tail.bytes) { found.append(failure("footer", reason)) }
        return found
    }

    private func descriptorProblem() -> String? {
        guard let text = descriptorText, !text.isEmpty, let kind = createType else { return "No descriptor found" }
        guard Self.allowedTypes.contains(kind) else { return "Unsupported subformat" }
        let blanks: Set<UInt8> = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]
        let accessModes = [ascii("rw"), ascii("rdonly"), ascii("noaccess")]
        var extents: [ArraySlice<UInt8>] = []
        for rawLine in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
            guard let first = rawLine.firstIndex(where: { !blanks.contains($0) }),
                let last = rawLine.lastIndex(where: { !blanks.contains($0) })
            else { continue }
            let line = rawLine[first...last]
            if line.first == 0x23 || line.starts(with: ascii("ddb")) { continue }
            if let equals = line.firstIndex(of: 0x3D), !line[..<equals].contains(0x20) { continue }
            let word = line.prefix(while: { $0 != 0x20 })
            guard accessModes.contains(where: { word.elementsEqual($0) }) else {
                return "Invalid VMDK descriptor data"
            }
            extents.append(line)
        }
        if extents.contains(where: { $0.contains(0x2F) }) { return "Invalid extent filenames found" }
        return extents.isEmpty ? "No extents found" : nil
    }

    private func footerProblem(_ tail: [UInt8]) -> String? {
        guard let head = header?.bytes, head.count >= 64, tail.count == 1536 else { return "Unexpected error" }
        let copy = Array(tail[512..<1024])
        if !head.has(Array(copy[0..<4])) { return "Header and footer signature do not match" }
        if head.little(4, 4) != copy.little(4, 4) { return "Header and footer versions do not match" }
        if head.little(28, 8) != copy.little(28, 8) || head.little(36, 8) != copy.little(36, 8) {
            return "Footer specifies a different descriptor than header"
        }
        if copy.little(56, 8) == UInt64.max { return "Footer indicates another footer" }
        func isMarker(_ at: Int, type: UInt64, zeroValue: Bool) -> Bool {
            (!zeroValue || tail.little(at, 8) == 0) && tail.little(at + 8, 4) == 0
                && tail.little(at + 12, 4) == type && tail[(at + 16)..<(at + 512)].allSatisfy { $0 == 0 }
        }
        if !isMarker(0, type: 3, zeroValue: false) { return "Footer marker is invalid" }
        if !isMarker(1024, type: 0, zeroValue: true) { return "End-of-stream marker is invalid" }
        return nil
    }
}

/// VirtualBox VDI.
private struct VdiProbe: FormatProbe {
    let name = "vdi"
    var consumed: Int64 = 0
    var header = CaptureWindow(offset: 0, length: 512)
    var isComplete: Bool { header.isComplete }

    mutating func take(_ block: ArraySlice<UInt8>) throws { header.take(block, endingAt: consumed) }
    func matches() -> Bool { header.isComplete && header.bytes.little(0x40, 4) == 0xBEDA_107F }
    func virtualSize() throws -> Int64 {
        guard matches() else { return 0 }
        return try exactSize(header.bytes.little(0x170, 8))
    }
    func safetyFailures() -> [FormatInspector.SafetyFailure] { [] }
}

/// QEMU enhanced disk: recognised only to be refused.
private struct QedProbe: FormatProbe {
    let name = "qed"
    var consumed: Int64 = 0
    var header = CaptureWindow(offset: 0, length: 512)
    var isComplete: Bool { header.isComplete }

    mutating func take(_ block: ArraySlice<UInt8>) throws { header.take(block, endingAt: consumed) }
    func matches() -> Bool { header.isComplete && header.bytes.has([0x51, 0x45, 0x44, 0x00]) }
    func safetyFailures() -> [FormatInspector.SafetyFailure] {
        [failure("banned", "This file format is not allowed")]
    }
}

/// ISO 9660 / UDF: volume descriptor after the 32 KiB system area.
private struct IsoProbe: FormatProbe {
    let name = "iso"
    var consumed: Int64 = 0
    var systemArea = CaptureWindow(offset: 0, length: 32 * 1024, keepsBytes: false)
    var descriptor = CaptureWindow(offset: 32 * 1024, length: 2048)
    var isComplete: Bool { systemArea.isComplete && descriptor.isComplete }

    mutating func take(_ block: ArraySlice<UInt8>) throws {
        systemArea.take(block, endingAt: consumed)
        descriptor.take(block, endingAt: consumed)
    }

    func matches() -> Bool {
        isComplete && ["CD001", "NSR02", "NSR03"].contains { descriptor.bytes.has(ascii($0), at: 1) }
    }

    func virtualSize() throws -> Int64 {
        let fields = descriptor.bytes
        guard matches(), fields.byte(0) == 1 else { return 0 }
        // Both-endian fields: read the little-endian halves.
        return Int64(fields.little(128, 2) ?? 0) * Int64(fields.little(80, 4) ?? 0)
    }

    func safetyFailures() -> [FormatInspector.SafetyFailure] { [] }
}

/// MBR / GPT partitioned disks (a FAT boot sector is not one).
private struct GptProbe: FormatProbe {
    let name = "gpt"
    var consumed: Int64 = 0
    var sector = CaptureWindow(offset: 0, length: 512)
    var isComplete: Bool { sector.isComplete }

    mutating func take(_ block: ArraySlice<UInt8>) throws { sector.take(block, endingAt: consumed) }

    func matches() -> Bool {
        let mbr = sector.bytes
        let looksLikeFAT = mbr.byte(0x10) == 2 && mbr.byte(0x15) == 0xF8
        return sector.isComplete && mbr.little(510, 2) == 0xAA55 && !looksLikeFAT
    }

    func safetyFailures() -> [FormatInspector.SafetyFailure] {
        let mbr = sector.bytes
        guard mbr.count == 512 else { return [failure("mbr", "Unexpected error")] }
        var used: [Int] = []
        var protective = false
        for slot in 0..<4 {
            let entry = 446 + slot * 16
            let bootFlag = mbr[entry]
            let type = mbr[entry + 4]
            if bootFlag != 0x00 && bootFlag != 0x80 {
                return [failure("mbr", "MBR PTE \(slot) has invalid boot flag")]
            }
            if type != 0 { used.append(slot) }
            if type == 0xEE {
                protective = true
                if !mbr.has([0x00, 0x02, 0x00], at: entry + 1) {
                    return [failure("mbr", "GPT MBR has invalid start CHS")]
                }
                if mbr.little(entry + 8, 4) != 1 { return [failure("mbr", "GPT MBR has invalid start LBA")] }
            }
        }
        if protective && used != [0] { return [failure("mbr", "GPT MBR defines invalid extra partitions")] }
        return used.isEmpty ? [failure("mbr", "GPT MBR has no partitions defined")] : []
    }
}

/// LUKS v1 encrypted container (inner format is not decrypted: no passphrase).
private struct LuksProbe: FormatProbe {
    let name = "luks"
    var consumed: Int64 = 0
    var header = CaptureWindow(offset: 0, length: 592)
    var isComplete: Bool { header.isComplete }

    mutating func take(_ block: ArraySlice<UInt8>) throws { header.take(block, endingAt: consumed) }
    func matches() -> Bool { header.bytes.has([0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE]) }

    func virtualSize() throws -> Int64 {
        guard header.bytes.count >= 168, let payload = header.bytes.big(104, 4) else {
            throw ProbeError(reason: "short LUKS header")
        }
        return consumed - Int64(payload) * 512
    }

    func safetyFailures() -> [FormatInspector.SafetyFailure] {
        let version = header.bytes.big(6, 2) ?? 0
        return version == 1 ? [] : [failure("version", "LUKS version \(version) is not supported")]
    }
}
