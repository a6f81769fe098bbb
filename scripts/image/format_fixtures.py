#!/usr/bin/env python3
"""Write small disk-image fixtures for Stratus' image format inspector.

Usage:
    python3 scripts/image/format_fixtures.py OUTDIR            # write fixtures
    python3 scripts/image/format_fixtures.py OUTDIR --oslo     # also print what
                                                               # oslo.utils + glance decide

Each fixture is crafted with `struct` (no qemu-img needed): qcow2 v2/v3 with and
without backing file / external data file / unknown feature bits, VMDK sparse
and text descriptors (safe, path extents, flat type, streamOptimized footer),
VHD, VHDX, ISO, ISO+GPT, GPT, MBR, FAT, LUKS v1/v2, VDI, QED and raw data.
The end-to-end tests use `qcow2-v3.img` (plain) and `qcow2-v3-backing.img`.

Cross-checking against oslo.utils (what glance 33 runs on upload):

    python3 -m venv /tmp/fi-venv && /tmp/fi-venv/bin/pip install oslo.utils
    /tmp/fi-venv/bin/python scripts/image/format_fixtures.py /tmp/fixtures --oslo > /tmp/oslo.txt
    # a Swift driver (see FormatInspectorTests / /tmp/fi/main.swift) prints the
    # same report for every file in /tmp/fixtures; the two must be identical:
    diff /tmp/oslo.txt /tmp/swift.txt

The one intended difference is qcow2-huge.img (virtual size 2**63): Python
reports "accept unrepresentable" (glance would try to store a size that does not
fit a signed 64-bit column); Stratus refuses it as "Image format inspection
failed" (or accepts without a virtual size when require_image_format_match is
false).

The --oslo report feeds each file the way glance_store's filesystem driver
reads an upload (64 KiB reads, then one empty read, then close) through
`format_inspector.InspectWrapper`, then applies glance 33's acceptance rule from
`glance/location.py` (ImageProxy.set_data) for several declared disk formats,
with `[image_format] require_image_format_match` true and false.
"""

import os
import struct
import sys

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


def pad(data, size):
    """Zero-extend (never truncate) bytes to size."""
    assert len(data) <= size, (len(data), size)
    return data + b'\0' * (size - len(data))


# --- qcow2 ----------------------------------------------------------------

def qcow2(version=3, size=GIB, backing=None, incompatible=0, total=64 * KIB):
    cluster_bits = 16
    header_len = 104 if version >= 3 else 72
    backing_offset = header_len + 8 if backing else 0
    fields = struct.pack(
        '>4sIQIIQIIQQIIQ', b'QFI\xfb', version, backing_offset,
        len(backing) if backing else 0, cluster_bits, size,
        0,          # crypt method
        1,          # l1 size
        3 * 65536,  # l1 table offset
        1 * 65536,  # refcount table offset
        1,          # refcount table clusters
        0,          # snapshots
        0)          # snapshots offset
    if version >= 3:
        fields += struct.pack('>QQQII', incompatible, 0, 0, 4, header_len)
    fields = pad(fields, header_len) + struct.pack('>II', 0, 0)  # end ext
    if backing:
        fields = pad(fields, backing_offset) + backing
    return pad(fields, total)


# --- VMDK -----------------------------------------------------------------

def vmdk_descriptor(create_type='monolithicSparse', extent='RW 2097152 SPARSE "disk.vmdk"',
                    extra=''):
    lines = ['# Disk DescriptorFile', 'version=1', 'CID=fffffffe',
             'parentCID=ffffffff', f'createType="{create_type}"', '',
             '# Extent description']
    if extent:
        lines.append(extent)
    lines += ['', '# The Disk Data Base', '#DDB', '',
              'ddb.virtualHWVersion = "4"', 'ddb.adapterType = "ide"']
    if extra:
        lines.append(extra)
    return ('\n'.join(lines) + '\n').encode('ascii')


def vmdk_sparse(descriptor, sectors=2 * MIB, gd_offset=21, desc_sectors=1,
                version=1, footer=False, total=64 * KIB):
    def header(gd):
        return struct.pack('<4sIIQQQQIQQQ?4B', b'KDMV', version, 3, sectors,
                           128, desc_sectors, 20, 512, 0, gd, 128, False,
                           0x0A, 0x20, 0x0D, 0x0A)
    gd = 0xFFFFFFFFFFFFFFFF if footer else gd_offset
    body = pad(header(gd), 512) + descriptor
    body = pad(body, total)
    if footer:
        marker = struct.pack('<QII', 1, 0, 3)
        eos = struct.pack('<QII', 0, 0, 0)
        body += pad(marker, 512) + pad(header(gd_offset), 512) + pad(eos, 512)
    return body


# --- VHD / VHDX -----------------------------------------------------------

def vhd(size=GIB):
    footer = struct.pack('>8sIIQI4sI4sQQHBBII16sB', b'conectix', 2, 0x10000,
                         512, 0, b'qemu', 0x50003, b'Wi2k', size, size,
                         1024, 16, 63, 3, 0, b'\x11' * 16, 0)
    return pad(pad(footer, 512) + b'\0' * 1024, 8 * KIB)


METAREGION = bytes.fromhex('06a27c8b90479a4bb8fe575f050f886e')
VDS_GUID = bytes.fromhex('2442a52f1bcd7648b2115dbed83bf4b8')


def vhdx(size=10 * GIB, meta_offset=256 * KIB, total=None, region_sig=b'regi'):
    out = bytearray(pad(b'vhdxfile' + 'stratus'.encode('utf-16-le'), 64 * KIB))
    out = pad(bytes(out), 192 * KIB)
    table = region_sig + struct.pack('<III', 0, 2, 0)
    table += b'\x01' * 16 + struct.pack('<QII', 1 * MIB, 1 * MIB, 1)  # BAT
    table += METAREGION + struct.pack('<QII', meta_offset, 1 * MIB, 1)
    out = pad(out + pad(table, 64 * KIB), meta_offset)
    meta = b'metadata' + struct.pack('<HH', 0, 2) + b'\0' * 20
    meta += b'\x02' * 16 + struct.pack('<IIII', 64 * KIB, 8, 0, 0)
    meta += VDS_GUID + struct.pack('<IIII', 64 * KIB + 8, 8, 0, 0)
    meta = pad(meta, 64 * KIB) + struct.pack('<IIQ', 32 * MIB, 0, size)
    out += meta
    return pad(out, total or len(out) + 64 * KIB)


# --- ISO / MBR / GPT / FAT ------------------------------------------------

def mbr(partitions, signature=0xAA55):
    table = b''
    for boot, chs, ptype, start, count in partitions:
        table += struct.pack('<B3sB3sII', boot, chs, ptype, b'\xfe\xff\xff', start, count)
    return pad(b'\x33\xc0' + b'\0' * 444 + pad(table, 64) + struct.pack('<H', signature), 512)


PROTECTIVE = [(0, b'\x00\x02\x00', 0xEE, 1, 0xFFFFFFFF)]


def gpt(total=1 * MIB):
    header = pad(b'EFI PART' + struct.pack('<II', 0x10000, 92), 512)
    return pad(mbr(PROTECTIVE) + header, total)


def iso(blocks=1000, with_gpt=False):
    area = gpt(32 * KIB) if with_gpt else b'\0' * 32 * KIB
    pvd = bytes([1]) + b'CD001' + bytes([1, 0]) + b' ' * 32 + b'STRATUS'.ljust(32)
    pvd = pad(pvd, 80) + struct.pack('<I', blocks) + struct.pack('>I', blocks)
    pvd = pad(pvd, 128) + struct.pack('<H', 2048) + struct.pack('>H', 2048)
    term = bytes([255]) + b'CD001' + bytes([1])
    return area + pad(pvd, 2048) + pad(term, 2048)


def fat_boot_sector():
    bpb = b'\xeb\x3c\x90' + b'MSDOS5.0' + struct.pack('<HBHBHHBH', 512, 8, 1, 2, 512, 0, 0xF8, 200)
    return pad(pad(bpb, 510) + b'\x55\xaa', 64 * KIB)


# --- LUKS / VDI / QED -----------------------------------------------------

def luks(version=1, payload_sectors=4096, total=4 * MIB):
    header = struct.pack('>6sH32s32s32sII20s32sI40s', b'LUKS\xba\xbe', version,
                         b'aes', b'xts-plain64', b'sha256', payload_sectors, 64,
                         b'\x01' * 20, b'\x02' * 32, 1000, b'0' * 40)
    for _ in range(8):
        header += struct.pack('>IIII', 0x0000DEAD, 0, 8, 4000)
        header += b'\0' * 32
    return pad(header, total)


def vdi(size=4 * GIB):
    header = pad(b'<<< Oracle VM VirtualBox Disk Image >>>\n', 64)
    header += struct.pack('<IHH', 0xBEDA107F, 1, 1)
    header = pad(header, 0x170) + struct.pack('<Q', size)
    return pad(header, 64 * KIB)


def qed():
    return pad(b'QED\x00' + struct.pack('<IIIQ', 65536, 16, 1, 0), 64 * KIB)


def raw(total=200 * KIB):
    return bytes((i * 7 + i // 251) % 256 for i in range(total))


def fixtures():
    text_desc = vmdk_descriptor('monolithicFlat', 'RW 2048 FLAT "other-flat.vmdk" 0')
    return {
        'raw.img': raw(),
        'empty.img': b'',
        'text-then-binary.img': b'A' * 600 + b'\xff' * 100 + b'\0' * 1000,
        'qcow2-v2.img': qcow2(version=2),
        'qcow2-v3.img': qcow2(version=3),
        'qcow2-v2-backing.img': qcow2(version=2, backing=b'/etc/passwd'),
        'qcow2-v3-backing.img': qcow2(version=3, backing=b'base.qcow2'),
        'qcow2-v3-datafile.img': qcow2(version=3, incompatible=0x04),
        'qcow2-v3-dirty.img': qcow2(version=3, incompatible=0x01),
        'qcow2-v3-unknown.img': qcow2(version=3, incompatible=0x20),
        'qcow2-v3-highbit.img': qcow2(version=3, incompatible=1 << 40),
        'qcow1.img': qcow2(version=1),
        'qcow2-huge.img': qcow2(version=3, size=1 << 63),
        'qcow2-truncated.img': qcow2(version=3)[:300],
        'qcow2-gpt-polyglot.img': qcow2(version=3)[:510] + b'\x55\xaa' + qcow2(version=3)[512:],
        'vmdk-sparse.vmdk': vmdk_sparse(vmdk_descriptor()),
        'vmdk-sparse-path-extent.vmdk': vmdk_sparse(vmdk_descriptor(extent='RW 2048 SPARSE "/etc/shadow"')),
        'vmdk-sparse-flat-type.vmdk': vmdk_sparse(vmdk_descriptor('monolithicFlat')),
        'vmdk-sparse-no-extent.vmdk': vmdk_sparse(vmdk_descriptor(extent='')),
        'vmdk-sparse-bad-line.vmdk': vmdk_sparse(vmdk_descriptor(extra='something weird here')),
        'vmdk-sparse-bad-desc-offset.vmdk': vmdk_sparse(vmdk_descriptor()).replace(
            struct.pack('<QQ', 1, 20), struct.pack('<QQ', 2, 20), 1),
        'vmdk-stream-optimized.vmdk': vmdk_sparse(vmdk_descriptor('streamOptimized'), footer=True),
        'vmdk-text-flat.vmdk': text_desc,
        'vmdk-text-sparse.vmdk': vmdk_descriptor('monolithicSparse', 'RW 2048 SPARSE "disk-s001.vmdk"'),
        'vmdk-tiny.vmdk': b'KDMV\x01\0\0\0\x03\0',
        'vhd.vhd': vhd(),
        'vhdx.vhdx': vhdx(),
        'vhdx-far-metadata.vhdx': vhdx(size=3 * GIB, meta_offset=2 * MIB),
        'vhdx-bad-region.vhdx': vhdx(region_sig=b'xxxx'),
        'vhdx-truncated.vhdx': vhdx()[:100],
        'iso.iso': iso(),
        'iso-gpt.iso': iso(with_gpt=True),
        'gpt.img': gpt(),
        'mbr.img': pad(mbr([(0x80, b'\x00\x21\x00', 0x83, 2048, 4096)]), 1 * MIB),
        'mbr-no-partitions.img': pad(mbr([]), 64 * KIB),
        'mbr-bad-boot-flag.img': pad(mbr([(0x12, b'\x00\x21\x00', 0x83, 2048, 4096)]), 64 * KIB),
        'gpt-extra-partition.img': pad(mbr(PROTECTIVE + [(0, b'\x00\x21\x00', 0x83, 9, 9)]), 64 * KIB),
        'fat.img': fat_boot_sector(),
        'luks1.img': luks(),
        'luks2.img': luks(version=2),
        'vdi.vdi': vdi(),
        'qed.img': qed(),
    }


# --- oslo.utils + glance 33 reference -------------------------------------

DECLARED = ['raw', 'qcow2', 'vmdk', 'vhd', 'vhdx', 'iso', 'vdi', 'luks', 'ami', 'ploop']


def _import_inspector():
    """Import oslo's format_inspector, stubbing `cryptography` if absent.

    oslo.utils 10.x imports cryptography for LUKS decryption, which only runs
    when a passphrase is given; glance never passes one, so stubs suffice.
    """
    try:
        import cryptography  # noqa: F401
    except ImportError:
        import types

        class _Inert:
            def __getattr__(self, _name):
                return self

            def __call__(self, *_args, **_kwargs):
                return self

        for mod in ('cryptography', 'cryptography.hazmat', 'cryptography.hazmat.backends',
                    'cryptography.hazmat.primitives', 'cryptography.hazmat.primitives.kdf'):
            stub = types.ModuleType(mod)
            stub.__getattr__ = lambda _name: _Inert()
            sys.modules[mod] = stub
    from oslo_utils.imageutils import format_inspector
    return format_inspector


def oslo_report(path):
    """Inspect like glance 33 and describe it in the Swift driver's format."""
    fi = _import_inspector()

    wrapper = fi.InspectWrapper(open(path, 'rb'))
    while wrapper.read(64 * KIB):
        pass
    wrapper.close()
    order = list(fi.ALL_FORMATS)
    lines = []
    total = os.path.getsize(path)
    try:
        matches = sorted(
            (i for i in wrapper._inspectors if i.NAME != 'raw' and i.format_match),
            key=lambda i: order.index(i.NAME))
        failed = False
    except Exception:
        matches, failed = [], True
    lines.append(f'total={total} failed={int(failed)} matches={",".join(i.NAME for i in matches)}')
    for inspector in matches:
        try:
            vsize = str(inspector.virtual_size)
            if int(vsize) >= 1 << 63:
                vsize = 'unreadable'
        except Exception:
            vsize = 'unreadable'
        try:
            inspector.safety_check()
            safety = 'passed'
        except fi.SafetyCheckFailed as e:
            safety = 'failed ' + '; '.join(f'{k}: {v}' for k, v in e.failures.items())
        except fi.ImageFormatError as e:
            safety = 'incomplete' if 'Incomplete' in str(e) else f'error {e}'
        lines.append(f'  {inspector.NAME} virtual={vsize} actual={inspector.actual_size} safety={safety}')
    for declared in DECLARED:
        for require in (True, False):
            lines.append(f'  {declared} require={int(require)} -> {glance_verdict(wrapper, declared, require)}')
    return lines


def glance_verdict(data, disk_format, require, nonfatal=()):
    """glance 33 ImageProxy.set_data acceptance rule, restated."""
    fi = _import_inspector()

    virtual_size = 0
    inspector = None
    try:
        found = {str(i): i for i in data.formats}
        inspector = found['iso'] if found.keys() == {'iso', 'gpt'} else data.format
        name = str(inspector)
        if name == disk_format:
            virtual_size = inspector.virtual_size
        elif name == 'raw' and disk_format not in fi.ALL_FORMATS:
            pass
        elif disk_format == 'raw':
            virtual_size = inspector.actual_size
        else:
            raise fi.ImageFormatError(
                f'Image disk_format {disk_format} does not match stream data {name}')
        inspector.safety_check()
    except fi.ImageFormatError as e:
        if require:
            message = str(e)
            if message.startswith('Multiple formats detected: '):
                # oslo lists them in set order; compare in ALL_FORMATS order.
                names = message.split(': ', 1)[1].split(',')
                names.sort(key=list(fi.ALL_FORMATS).index)
                message = 'Multiple formats detected: ' + ','.join(names)
            return f'refuse 415 {message}'
    except fi.SafetyCheckFailed as e:
        if not (inspector.NAME == 'gpt' and not (e.failures.keys() - set(nonfatal))):
            return 'refuse 415 Image failed safety checks'
    except Exception:
        if require:
            return 'refuse 415 Image format inspection failed'
    if virtual_size and virtual_size >= 1 << 63:
        return 'accept unrepresentable'
    return f'accept {virtual_size or "-"}'


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, data in fixtures().items():
        with open(os.path.join(outdir, name), 'wb') as f:
            f.write(data)
    if '--oslo' in argv:
        for name in sorted(fixtures()):
            print(f'{name}')
            print('\n'.join(oslo_report(os.path.join(outdir, name))))


if __name__ == '__main__':
    main(sys.argv)
