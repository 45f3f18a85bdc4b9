import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { ExecHostRunner } from '../system/index.js';
import { extractVmlinux, headerPayloadOffset, isElf, payloadCandidates } from './vmlinux.js';

const fakeElf = () => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), randomBytes(4096)]);
/** A bzImage-like file: a setup stub with stray magic-looking bytes, then the compressed kernel, then trailing data. */
const bzImage = (payload: Buffer) =>
  Buffer.concat([
    randomBytes(2000),
    Buffer.from([0x1f, 0x8b, 0x08, 0, 0]),
    randomBytes(500),
    payload,
    randomBytes(300),
  ]);

test('vmlinux from a gzip payload, skipping false magic hits; an ELF is returned as it is', async () => {
  const elf = fakeElf();
  const image = bzImage(gzipSync(elf));
  assert.ok(
    payloadCandidates(image).filter((c) => c.format.name === 'gzip').length >= 2,
    'a false hit precedes the real payload',
  );
  const out = await extractVmlinux(new ExecHostRunner(), image);
  assert.ok(isElf(out));
  assert.ok(out.equals(elf));
  assert.equal(await extractVmlinux(new ExecHostRunner(), elf), elf);
});

test('vmlinux from an xz payload (as Debian kernels ship); nothing to find is a clear error', async () => {
  const elf = fakeElf();
  const xz = execFileSync('xz', ['-c', '--check=crc32'], { input: elf });
  assert.ok((await extractVmlinux(new ExecHostRunner(), bzImage(xz))).equals(elf));
  await assert.rejects(
    extractVmlinux(new ExecHostRunner(), randomBytes(10000)),
    /no ELF kernel found inside this kernel image/,
  );
});

test("the payload the bzImage header points at (an LZ4 legacy frame, as Debian's cloud kernels use)", async () => {
  const elf = fakeElf();
  const lz4 = execFileSync('lz4', ['-l', '-c'], { input: elf });
  const image = Buffer.alloc(1124 + lz4.length + 64);
  randomBytes(0x1f0).copy(image);
  image[0x1f1] = 1; // one setup sector: protected-mode code at 2 * 512
  image.write('HdrS', 0x202, 'latin1');
  image.writeUInt32LE(100, 0x248); // payload_offset
  image.writeUInt32LE(lz4.length, 0x24c);
  lz4.copy(image, 1124);
  assert.equal(headerPayloadOffset(image), 1124);
  assert.ok((await extractVmlinux(new ExecHostRunner(), image)).equals(elf));
});
