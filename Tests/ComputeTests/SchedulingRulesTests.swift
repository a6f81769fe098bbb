import Foundation
import StratusCore
import Testing

@testable import Compute

/// nova's flavor extra-spec registry (2.86) and the image requirements the scheduler applies, on
/// literal keys, values, images and hosts.
@Suite struct ExtraSpecRulesTests {
    @Test("known keys have their values checked with nova's messages")
    func values() {
        #expect(ExtraSpecRules.refusal("hw:cpu_policy", "dedicated") == nil)
        #expect(ExtraSpecRules.refusal("hw:cpu_policy", "bogus") == "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.")
        #expect(ExtraSpecRules.refusal("hw:numa_nodes", "0") == "Validation failed; '0' is less than the min value of '1'.")
        #expect(ExtraSpecRules.refusal("hw:numa_nodes", " 3 ") == nil, "Python's int() strips spaces")
        #expect(ExtraSpecRules.refusal("hw:numa_nodes", "1.5") == "Validation failed; '1.5' is not a valid integer value.")
        #expect(ExtraSpecRules.refusal("hw:redirected_usb_ports", "+16") == "Validation failed; '16' is greater than the max value of '15'.")
        #expect(ExtraSpecRules.refusal("hw:boot_menu", " YES ") == nil)
        #expect(ExtraSpecRules.refusal("hw:boot_menu", "maybe") == "Validation failed; 'maybe' is not a valid boolean-like value.")
        #expect(ExtraSpecRules.refusal("hw:mem_page_size", "2MB") == nil)
        #expect(ExtraSpecRules.refusal("hw:mem_page_size", "large") == nil)
        #expect(
            ExtraSpecRules.refusal("hw:mem_page_size", "huge")
                == #"Validation failed; 'huge' is not of the format '(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)'."#
        )
        #expect(ExtraSpecRules.refusal("hw:numa_cpus.1", "0-3,^2") == nil)
        #expect(ExtraSpecRules.refusal("hw:numa_mem.0", "0") == "Validation failed; '0' is less than the min value of '1'.")
        #expect(ExtraSpecRules.refusal("pci_passthrough:alias", "a1:2, b2:1") == nil)
        #expect(ExtraSpecRules.refusal("quota:disk_read_bytes_sec", "-1") == "Validation failed; '-1' is less than the min value of '0'.")
        #expect(ExtraSpecRules.refusal("quota:cpu_reservation", "-1") == nil)
        #expect(ExtraSpecRules.refusal("group_policy", "isolate") == nil)
        #expect(ExtraSpecRules.refusal("group_policy", "all") == "Validation failed; 'all' is not one of: isolate, none.")
    }

    @Test("resources and traits: standard names and CUSTOM_, with or without a group suffix")
    func resourcesAndTraits() {
        #expect(ExtraSpecRules.refusal("resources:VCPU", "2") == nil)
        #expect(ExtraSpecRules.refusal("resources_gpu1:VGPU", "1") == nil)
        #expect(ExtraSpecRules.refusal("resources:CUSTOM_FPGA_X", "1") == nil)
        #expect(ExtraSpecRules.refusal("resources:VCPU", "x") == "Validation failed; 'x' is not a valid integer value.")
        #expect(
            ExtraSpecRules.refusal("resources:BOGUS", "1")
                == "Validation failed; extra spec 'resources:BOGUS' does not appear to be a valid extra spec."
        )
        #expect(ExtraSpecRules.refusal("trait:HW_CPU_X86_AVX2", "required") == nil)
        #expect(ExtraSpecRules.refusal("trait2:CUSTOM_GPU", "forbidden") == nil)
        #expect(ExtraSpecRules.refusal("trait:CUSTOM_GPU", "preferred") == "Validation failed; 'preferred' is not one of: required, forbidden.")
        #expect(ExtraSpecRules.refusal("trait:custom_lower", "required") != nil)
    }

    @Test("unknown keys: refused in nova's namespaces, free elsewhere and without a namespace")
    func namespaces() {
        #expect(
            ExtraSpecRules.refusal("hw:nonsense", "1") == "Validation failed; extra spec 'hw:nonsense' does not appear to be a valid extra spec."
        )
        #expect(ExtraSpecRules.refusal("capabilities:bogus", "1") != nil)
        #expect(ExtraSpecRules.refusal("capabilities:cpu_info:features", "<in> aes") == nil)
        #expect(ExtraSpecRules.refusal("capabilities:hypervisor_type", "s== QEMU") == nil)
        #expect(ExtraSpecRules.refusal("aggregate_instance_extra_specs:ssd", "true") == nil)
        #expect(ExtraSpecRules.refusal("vendor:anything", "x") == nil)
        #expect(ExtraSpecRules.refusal("color", "blue") == nil)
        #expect(ExtraSpecRules.refusal("hw_video:ram_max_mb", "64") == nil)
    }
}

@Suite struct ImageRequirementsTests {
    static let fakeHost = [["x86_64", "fake", "hvm"]]

    @Test("an image asking for nothing fits any host, even one that reports no supported instances")
    func nothingAsked() {
        let image = ImageRequirements(image: ["name": "cirros", "disk_format": "qcow2"])
        #expect(image.admits(supportedInstances: [], hypervisorVersion: 1000))
        #expect(image.requiredTraits.isEmpty)
    }

    @Test("architecture, hypervisor type and VM mode, canonicalised, must all be in one supported entry")
    func matching() {
        #expect(ImageRequirements(image: ["hw_architecture": "amd64"]).admits(supportedInstances: Self.fakeHost, hypervisorVersion: 1000))
        #expect(ImageRequirements(image: ["architecture": "X86_64"]).admits(supportedInstances: Self.fakeHost, hypervisorVersion: 1000))
        #expect(!ImageRequirements(image: ["hw_architecture": "aarch64"]).admits(supportedInstances: Self.fakeHost, hypervisorVersion: 1000))
        #expect(!ImageRequirements(image: ["img_hv_type": "kvm"]).admits(supportedInstances: Self.fakeHost, hypervisorVersion: 1000))
        #expect(ImageRequirements(image: ["hw_vm_mode": "HV"]).admits(supportedInstances: Self.fakeHost, hypervisorVersion: 1000))
        #expect(!ImageRequirements(image: ["hw_vm_mode": "hvm"]).admits(supportedInstances: [], hypervisorVersion: 1000))
        let two = [["i686", "qemu", "hvm"], ["x86_64", "kvm", "hvm"]]
        #expect(ImageRequirements(image: ["hw_architecture": "i386", "img_hv_type": "qemu"]).admits(supportedInstances: two, hypervisorVersion: 1))
        #expect(!ImageRequirements(image: ["hw_architecture": "i386", "img_hv_type": "kvm"]).admits(supportedInstances: two, hypervisorVersion: 1))
    }

    @Test("the requested hypervisor version against the host's (nova's integer encoding)")
    func versions() {
        #expect(ImageRequirements.versionString(8_000_000) == "8.0.0")
        #expect(ImageRequirements.versionString(1000) == "1.0")
        #expect(ImageRequirements.versionString(6_002_001) == "6.2.1")
        #expect(ImageRequirements.satisfies(">=6.0, <7.0", "6.2.1"))
        #expect(!ImageRequirements.satisfies(">=6.0, <7.0", "7.0"))
        #expect(ImageRequirements.satisfies("==1.0", "1.0.0"))
        let wantsNew = ImageRequirements(image: ["img_hv_type": "fake", "img_hv_requested_version": ">=2.0"])
        #expect(!wantsNew.admits(supportedInstances: Self.fakeHost, hypervisorVersion: 1000))
        #expect(wantsNew.admits(supportedInstances: Self.fakeHost, hypervisorVersion: 2000))
    }

    @Test("trait:NAME=required properties become required traits; other values are ignored; the stored form round-trips")
    func traits() {
        let image = ImageRequirements(image: [
            "trait:CUSTOM_GPU": "required", "trait:HW_CPU_X86_AVX2": "required", "trait:CUSTOM_NO": "forbidden", "name": "x",
            "hw_architecture": "x86_64",
        ])
        #expect(image.requiredTraits == ["CUSTOM_GPU", "HW_CPU_X86_AVX2"])
        #expect(ImageRequirements(json: image.json) == image)
        #expect(ImageRequirements(json: nil) == ImageRequirements())
    }
}
