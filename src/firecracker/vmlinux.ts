import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { BangerError } from '../model/index.js';
import type { HostRunner } from '../system/index.js';

/**
 * Firecracker on x86_64 boots an uncompressed ELF vmlinux, while distributions ship a
 * bzImage: a setup stub followed by the compressed kernel. The boot protocol's header says
 * where the payload is (setup_sects at 0x1f1, payload_offset and payload_length at 0x248);
 * that is tried first, then, like the kernel's own scripts/extract-vmlinux, every place a
 * compression format's magic occurs. Each candidate is decompressed with its format's tool
 * (through the command runner) and the first result that is an ELF image wins.
 */
export const PAYLOAD_FORMATS = [
  { name: 'gzip', magic: Buffer.from([0x1f, 0x8b, 0x08]), argv: ['gzip', '-dc'] },
  { name: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), argv: ['xz', '-dc'] },
  { name: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), argv: ['zstd', '-dcq'] },
  { name: 'bzip2', magic: Buffer.from('BZh'), argv: ['bzip2', '-dc'] },
  { name: 'lzma', magic: Buffer.from([0x5d, 0x00, 0x00, 0x00]), argv: ['xz', '--format=lzma', '-dc'] },
  // The legacy LZ4 frame the kernel writes (Debian's cloud kernels use it).
  { name: 'lz4', magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]), argv: ['lz4', '-dc'] },
] as const;

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Offsets where each format's magic occurs, in file order (several false hits are normal). */
export function payloadCandidates(image: Buffer): Array<{ offset: number; format: (typeof PAYLOAD_FORMATS)[number] }> {
  const out: Array<{ offset: number; format: (typeof PAYLOAD_FORMATS)[number] }> = [];
  for (const format of PAYLOAD_FORMATS) {
    for (let i = image.indexOf(format.magic); i >= 0 && out.length < 256; i = image.indexOf(format.magic, i + 1))
      out.push({ offset: i, format });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

export function isElf(b: Buffer): boolean {
  return b.length > 64 && b.subarray(0, 4).equals(ELF_MAGIC);
}

/** The payload's offset according to the bzImage header (boot protocol >= 2.08), or null. */
export function headerPayloadOffset(image: Buffer): number | null {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
  const setupSects = image[0x1f1] || 4;
  const offset = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  return offset < image.length ? offset : null;
}

/** The vmlinux of a bzImage (an ELF kernel is returned as it is). */
export async function extractVmlinux(runner: HostRunner, image: Buffer): Promise<Buffer> {
  if (isElf(image)) return image;
  const fromHeader = headerPayloadOffset(image);
  const first =
    fromHeader === null
      ? []
      : PAYLOAD_FORMATS.filter((f) => image.subarray(fromHeader, fromHeader + f.magic.length).equals(f.magic)).map(
          (format) => ({ offset: fromHeader, format }),
        );
  for (const c of [...first, ...payloadCandidates(image)]) {
    // Trailing data after the stream is normal: the tools still write what they decoded.
    const r = await runner
      .run([...c.format.argv], {
        stdin: image.subarray(c.offset),
        allowFailure: true,
        timeoutMs: 120_000,
        maxOutputBytes: 512 << 20,
        raw: true,
      })
      .catch(() => null);
    const out = r?.stdoutBuffer;
    if (out && isElf(out)) return out;
  }
  throw new BangerError(
    'operation_failed',
    'no ELF kernel found inside this kernel image (tried gzip, xz, zstd, bzip2, lzma and lz4 payloads)',
    {
      hint: 'Firecracker needs an uncompressed vmlinux: import one with `banger kernel import NAME DIR` (DIR/vmlinux)',
    },
  );
}

/** Extracts once and caches beside the kernel (`vmlinux` next to `vmlinuz`). */
export async function cachedVmlinux(runner: HostRunner, kernelPath: string): Promise<string> {
  const dest = kernelPath.replace(/vmlinuz[^/]*$/, 'vmlinux');
  if (dest !== kernelPath && existsSync(dest)) return dest;
  const image = readFileSync(kernelPath);
  if (isElf(image)) return kernelPath;
  const elf = await extractVmlinux(runner, image);
  writeFileSync(`${dest}.tmp`, elf, { mode: 0o644 });
  renameSync(`${dest}.tmp`, dest);
  return dest;
}
