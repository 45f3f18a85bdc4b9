import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { userLayout, type Layout } from '../../src/paths/index.js';

/**
 * Writes the stand-in `firecracker` and `jailer` executables into `dir`. They are Node
 * scripts with an absolute interpreter line, loading the compiled fakes. One exec: the
 * kernel hands the script's path to node as argv[1], which is how root recognises a
 * stand-in (roothelper/vmmIdentity.ts); never by comm, which Node 24 renames "MainThread".
 */
export function writeFirecrackerStandIns(
  dir: string,
  buildRoot: string,
): { firecrackerBin: string; jailerBin: string } {
  const script = (name: string, module: string) => {
    const path = join(dir, name);
    writeFileSync(
      path,
      `#!${process.execPath}\nimport(${JSON.stringify(join(buildRoot, 'test', 'fakes', module))});\n`,
    );
    chmodSync(path, 0o755);
    return path;
  };
  return {
    firecrackerBin: script('firecracker', 'firecracker-fake.js'),
    jailerBin: script('jailer', 'jailer-fake.js'),
  };
}

/**
 * Writes a bzImage-like kernel at `path` for the stand-ins: a stub, then a gzip'd ELF, which
 * the driver extracts into the vmlinux Firecracker boots (firecracker/vmlinux.ts).
 */
export function writeFakeBzImage(path: string): void {
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), randomBytes(4096)]);
  writeFileSync(path, Buffer.concat([randomBytes(600), gzipSync(elf)]));
}

/**
 * A scratch host for driver tests: a new directory under the system's temporary one (named
 * `prefix`...), the stand-ins in it, a user layout rooted there with its kernels and runtime
 * directories made, and a fake bzImage kernel. The caller removes `dir`.
 */
export function standInHost(
  prefix: string,
  buildRoot: string,
): { dir: string; bins: ReturnType<typeof writeFirecrackerStandIns>; layout: Layout; kernel: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const bins = writeFirecrackerStandIns(dir, buildRoot);
  const layout = userLayout({ home: dir, uid: process.getuid!(), env: { XDG_RUNTIME_DIR: join(dir, 'run') } });
  mkdirSync(layout.kernelsDir, { recursive: true });
  mkdirSync(layout.runtimeDir, { recursive: true });
  const kernel = join(layout.kernelsDir, 'vmlinuz');
  writeFakeBzImage(kernel); // the driver extracts and caches its vmlinux
  return { dir, bins, layout, kernel };
}
