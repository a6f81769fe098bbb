import Testing

@testable import Image

// Fixtures are built from literal header fields; scripts/image/format_fixtures.py
// builds the same kinds of files for cross-checking against oslo.utils.

private func zeros(_ count: Int) -> [UInt8] { Array(repeating: 0, count: count) }

private func put(_ value: UInt64, bigEndian: Bool, width: Int, at offset: Int, in bytes: inout [UInt8]) {
    for index in 0..<width {
        let shift = UInt64(bigEndian ? (width - 1 - index) * 8 : index * 8)
        bytes[offset + index] = UInt8(truncatingIfNeeded: value >> shift)
    }
}

private func put(_ text: String, at offset: Int, in bytes: inout [UInt8]) {
    for (index, byte) in text.utf8.enumerated() { bytes[offset + index] = byte }
}

private func qcow2(
    version: UInt64 = 3,
    size: UInt64 = 1 << 30,
    backingFile: String? = nil,
    incompatibleFeatures: UInt64 = 0
) -> [UInt8] {
    var image = zeros(65_536)
    put(0x5146_49FB, bigEndian: true, width: 4, at: 0, in: &image)
    put(version, bigEndian: true, width: 4, at: 4, in: &image)
    put(16, bigEndian: true, width: 4, at: 20, in: &image)
    put(size, bigEndian: true, width: 8, at: 24, in: &image)
    if version >= 3 {
        put(incompatibleFeatures, bigEndian: true, width: 8, at: 72, in: &image)
        put(104, bigEndian: true, width: 4, at: 100, in: &image)
    }
    if let backingFile {
        put(112, bigEndian: true, width: 8, at: 8, in: &image)
        put(UInt64(backingFile.utf8.count), bigEndian: true, width: 4, at: 16, in: &image)
        put(backingFile, at: 112, in: &image)
    }
    return image
}

private func sparseVMDK(descriptor: String, sectors: UInt64 = 2_097_152) -> [UInt8] {
    var image = zeros(65_536)
    put("KDMV", at: 0, in: &image)
    put(1, bigEndian: false, width: 4, at: 4, in: &image)
    put(sectors, bigEndian: false, width: 8, at: 12, in: &image)
    put(128, bigEndian: false, width: 8, at: 20, in: &image)
    put(1, bigEndian: false, width: 8, at: 28, in: &image)  // descriptor at sector 1
    put(20, bigEndian: false, width: 8, at: 36, in: &image)  // 20 sectors long
    put(512, bigEndian: false, width: 4, at: 44, in: &image)
    put(21, bigEndian: false, width: 8, at: 56, in: &image)
    put(descriptor, at: 512, in: &image)
    return image
}

private func vmdkDescriptor(createType: String, extent: String) -> String {
    """
    # Disk DescriptorFile
    version=1
    CID=fffffffe
    parentCID=ffffffff
    createType="\(createType)"

    # Extent description
    \(extent)

    ddb.adapterType = "ide"

    """
}

private func vhd(size: UInt64) -> [UInt8] {
    var image = zeros(8192)
    put("conectix", at: 0, in: &image)
    put(size, bigEndian: true, width: 8, at: 40, in: &image)
    return image
}

private func isoImage(blocks: UInt64) -> [UInt8] {
    var image = zeros(36_864)
    image[32_768] = 1
    put("CD001", at: 32_769, in: &image)
    put(blocks, bigEndian: false, width: 4, at: 32_768 + 80, in: &image)
    put(2048, bigEndian: false, width: 2, at: 32_768 + 128, in: &image)
    return image
}

private func mbrDisk(bootFlag: UInt8 = 0x80, partitionType: UInt8 = 0x83) -> [UInt8] {
    var image = zeros(65_536)
    image[446] = bootFlag
    image[450] = partitionType
    put(2048, bigEndian: false, width: 4, at: 454, in: &image)
    put(4096, bigEndian: false, width: 4, at: 458, in: &image)
    put(0xAA55, bigEndian: false, width: 2, at: 510, in: &image)
    return image
}

private func inspect(_ bytes: [UInt8], chunkSizes: [Int] = [Int.max]) -> FormatInspector.Inspection {
    var inspector = FormatInspector()
    var offset = 0
    var turn = 0
    while offset < bytes.count {
        let size = min(chunkSizes[turn % chunkSizes.count], bytes.count - offset)
        inspector.feed(bytes[offset..<(offset + size)])
        offset += size
        turn += 1
    }
    return inspector.finish()
}

private func upload(
    _ bytes: [UInt8],
    as diskFormat: String,
    container: String = "bare",
    requireMatch: Bool = true
) -> FormatInspector.Verdict {
    FormatInspector.verdict(
        declared: diskFormat,
        containerFormat: container,
        inspection: inspect(bytes),
        requireFormatMatch: requireMatch
    )
}

@Test func plainQcow2IsAcceptedWithItsVirtualSize() {
    let inspection = inspect(qcow2(size: 10 << 30))
    #expect(inspection.format == "qcow2")
    #expect(inspection.virtualSize == 10 << 30)
    #expect(inspection.safetyCheck().isEmpty)
    #expect(upload(qcow2(size: 10 << 30), as: "qcow2") == .accepted(virtualSize: 10 << 30))
    #expect(upload(qcow2(version: 2), as: "qcow2") == .accepted(virtualSize: 1 << 30))
}

@Test func qcow2WithBackingFileIsRefused() {
    let image = qcow2(backingFile: "/etc/passwd")
    #expect(inspect(image).safetyCheck() == ["Image has a backing file"])
    let refusal = FormatInspector.Verdict.refused(status: 415, message: "Image failed safety checks")
    #expect(upload(image, as: "qcow2") == refusal)
    // Declaring it raw does not bypass the check, nor does relaxing the format match.
    #expect(upload(image, as: "raw") == refusal)
    #expect(upload(image, as: "qcow2", requireMatch: false) == refusal)
}

@Test func qcow2FeatureBitsAreChecked() {
    #expect(inspect(qcow2(incompatibleFeatures: 0x04)).safetyCheck() == ["Image has data_file set"])
    #expect(inspect(qcow2(incompatibleFeatures: 0x20)).safetyCheck() == ["Unknown QCOW2 features found"])
    #expect(inspect(qcow2(incompatibleFeatures: 0x01)).safetyCheck().isEmpty)
    #expect(inspect(qcow2(version: 1)).safetyCheck() == ["Unsupported qcow2 version"])
}

@Test func mismatchedDeclarationIsRefused() {
    #expect(
        upload(qcow2(), as: "vmdk")
            == .refused(status: 415, message: "Image disk_format vmdk does not match stream data qcow2")
    )
    #expect(
        upload(zeros(4096), as: "qcow2")
            == .refused(status: 415, message: "Image disk_format qcow2 does not match stream data raw")
    )
    #expect(upload(zeros(4096), as: "qcow2", requireMatch: false) == .accepted(virtualSize: nil))
}

@Test func rawAndUninspectableFormatsPass() {
    let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 31) }
    #expect(inspect(data).format == "raw")
    #expect(inspect(data).virtualSize == nil)
    #expect(upload(data, as: "raw") == .accepted(virtualSize: 5000))
    #expect(upload(data, as: "ami") == .accepted(virtualSize: nil))
    #expect(upload(data, as: "ploop") == .accepted(virtualSize: nil))
    #expect(upload(qcow2(), as: "raw") == .accepted(virtualSize: 65_536))
    #expect(upload(qcow2(backingFile: "x"), as: "qcow2", container: "ova") == .accepted(virtualSize: nil))
}

@Test func vmdkExtentsAndSubformatsAreChecked() {
    let safe = sparseVMDK(
        descriptor: vmdkDescriptor(
            createType: "monolithicSparse",
            extent: "RW 2097152 SPARSE \"disk.vmdk\""
        )
    )
    #expect(upload(safe, as: "vmdk") == .accepted(virtualSize: 1 << 30))

    let pathExtent = sparseVMDK(
        descriptor: vmdkDescriptor(
            createType: "monolithicSparse",
            extent: "RW 2048 FLAT \"/etc/shadow\" 0"
        )
    )
    #expect(inspect(pathExtent).safetyCheck() == ["Invalid extent filenames found"])
    #expect(upload(pathExtent, as: "vmdk") == .refused(status: 415, message: "Image failed safety checks"))

    let flat = sparseVMDK(
        descriptor: vmdkDescriptor(
            createType: "monolithicFlat",
            extent: "RW 2048 FLAT \"other.vmdk\" 0"
        )
    )
    #expect(inspect(flat).safetyCheck() == ["Unsupported subformat"])

    let noExtent = sparseVMDK(descriptor: vmdkDescriptor(createType: "streamOptimized", extent: ""))
    #expect(inspect(noExtent).safetyCheck() == ["No extents found"])
}

@Test func textOnlyVMDKDescriptorIsRecognised() {
    let text = Array(vmdkDescriptor(createType: "monolithicFlat", extent: "RW 2048 FLAT \"flat.vmdk\" 0").utf8)
    let inspection = inspect(text)
    #expect(inspection.format == "vmdk")
    #expect(inspection.safetyCheck() == ["Unsupported subformat"])
    #expect(upload(text, as: "raw") == .refused(status: 415, message: "Image failed safety checks"))
}

@Test func otherFormatsReportTheirVirtualSize() {
    #expect(inspect(vhd(size: 3 << 30)).format == "vhd")
    #expect(inspect(vhd(size: 3 << 30)).virtualSize == 3 << 30)
    #expect(inspect(isoImage(blocks: 1000)).format == "iso")
    #expect(inspect(isoImage(blocks: 1000)).virtualSize == 2_048_000)
    #expect(upload(isoImage(blocks: 1000), as: "iso") == .accepted(virtualSize: 2_048_000))
}

@Test func partitionTablesAreCheckedAsGPT() {
    #expect(inspect(mbrDisk()).format == "gpt")
    #expect(upload(mbrDisk(), as: "raw") == .accepted(virtualSize: 65_536))
    #expect(inspect(mbrDisk(bootFlag: 0x12)).safetyCheck() == ["MBR PTE 0 has invalid boot flag"])
    #expect(
        upload(mbrDisk(partitionType: 0), as: "raw")
            == .refused(status: 415, message: "Image failed safety checks")
    )
    let tolerated = FormatInspector.verdict(
        declared: "raw",
        containerFormat: "bare",
        inspection: inspect(mbrDisk(partitionType: 0)),
        gptNonfatalChecks: ["mbr"]
    )
    #expect(tolerated == .accepted(virtualSize: 65_536))
}

@Test func truncatedHeadersAreNotTrusted() {
    #expect(inspect(Array(qcow2().prefix(300))).format == "raw")
    let tinyVHD = Array(vhd(size: 1 << 30).prefix(100))
    #expect(inspect(tinyVHD).format == "vhd")
    #expect(
        upload(tinyVHD, as: "vhd")
            == .refused(status: 415, message: "Incomplete file cannot be safety checked")
    )
    #expect(inspect([]).format == "raw")
    #expect(upload([], as: "raw") == .accepted(virtualSize: nil))
}

@Test func polyglotHeadersAreRefused() {
    var image = qcow2()
    put(0xAA55, bigEndian: false, width: 2, at: 510, in: &image)
    #expect(inspect(image).format == nil)
    #expect(
        upload(image, as: "qcow2")
            == .refused(status: 415, message: "Multiple formats detected: qcow2,gpt")
    )
}

@Test func chunkingDoesNotChangeTheResult() {
    let vmdk = sparseVMDK(
        descriptor: vmdkDescriptor(
            createType: "monolithicSparse",
            extent: "RW 2097152 SPARSE \"disk.vmdk\""
        )
    )
    let images = [
        qcow2(backingFile: "base"), qcow2(size: 5 << 30), vmdk, isoImage(blocks: 77),
        mbrDisk(), vhd(size: 1 << 20), Array(vmdkDescriptor(createType: "x", extent: "").utf8),
    ]
    for image in images {
        let whole = inspect(image)
        #expect(inspect(image, chunkSizes: [1]) == whole)
        #expect(inspect(image, chunkSizes: [3, 511, 4099]) == whole)
        #expect(inspect(image, chunkSizes: [65_537]) == whole)
    }
}

@Test func garbageNeverCrashes() {
    var generator = SystemRandomNumberGenerator()
    for length in [0, 1, 63, 64, 511, 512, 4096, 40_000] {
        let noise = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let inspection = inspect(noise, chunkSizes: [17, 1, 4096])
        #expect(inspection.totalBytes == Int64(length))
        _ = inspection.safetyCheck()
    }
}
