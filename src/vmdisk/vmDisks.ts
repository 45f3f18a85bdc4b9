import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BangerError, MIB } from '../model/index.js';
import type { HostRunner } from '../system/index.js';

/**
 * A VM's two disks. The root disk is a copy-on-write view of the shared, read-only image
 * rootfs: a qcow2 overlay whose backing file is the image (QEMU), or a sparse copy where
 * qcow2 cannot be used. The work disk (mounted at /root) is a sparse copy of the image's
 * work seed grown to the VM's disk size. Both survive stop/start; delete removes them.
 */
export async function createRootOverlay(runner: HostRunner, image: string, overlay: string, sizeBytes: number, mode: 'qcow2' | 'copy'): Promise<'qcow2' | 'raw'> {
  if (mode === 'qcow2') {
    await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', image, overlay, `${Math.floor(sizeBytes / MIB)}M`]);
    return 'qcow2';
  }
  await runner.run(['cp', '--sparse=always', image, overlay], { timeoutMs: 600_000 });
  chmodSync(overlay, 0o600);
  return 'raw';
}

/** Clones the work seed (or makes an empty ext4) and grows it to `sizeBytes`. */
export async function createWorkDisk(runner: HostRunner, seed: string | null, disk: string, sizeBytes: number): Promise<void> {
  const sizeArg = `${Math.floor(sizeBytes / MIB)}M`;
  if (!seed) {
    await runner.run(['truncate', '-s', sizeArg, disk]);
    await runner.run(['mkfs.ext4', '-q', '-F', '-L', 'banger-work', '-E', 'root_owner=0:0,lazy_itable_init=1', disk]);
    return;
  }
  copyFileSync(seed, disk);
  await growWorkDisk(runner, disk, sizeBytes);
}

/** Grows an ext4 disk image (file and filesystem) to `sizeBytes`; never shrinks. */
export async function growWorkDisk(runner: HostRunner, disk: string, sizeBytes: number): Promise<void> {
  const sizeArg = `${Math.floor(sizeBytes / MIB)}M`;
  await runner.run(['truncate', '-s', `>${sizeArg}`, disk]);
  // resize2fs insists on a freshly checked filesystem.
  await runner.run(['e2fsck', '-f', '-p', disk], { allowFailure: true });
  await runner.run(['resize2fs', '-f', disk, sizeArg]);
}

export interface WorkDiskFile {
  /** Path inside the work disk (whose root is the guest's /root). */
  path: string;
  content: string;
  mode: number;
}

/**
 * Writes files into an ext4 work disk without mounting it: one debugfs session creating
 * only the parent directories that are missing (debugfs `mkdir` of an existing name
 * corrupts the filesystem) before any `cd`.
 */
export async function writeWorkDiskFiles(runner: HostRunner, disk: string, files: readonly WorkDiskFile[]): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'banger-work-'));
  try {
    const existingDirs = new Set<string>(['/']);
    const ls = await runner.run(['debugfs', '-R', 'ls -p /', disk], { allowFailure: true });
    for (const line of ls.stdout.split('\n')) {
      const parts = line.split('/');
      // ls -p: /inode/mode/uid/gid/name/size/
      if (parts.length > 6 && parts[2]!.startsWith('04') && parts[5] && parts[5] !== '.' && parts[5] !== '..') existingDirs.add(`/${parts[5]}`);
    }
    const commands: string[] = [];
    const dirs = new Set<string>();
    for (const f of files) {
      const segs = f.path.split('/').filter(Boolean).slice(0, -1);
      for (let i = 1; i <= segs.length; i++) dirs.add(`/${segs.slice(0, i).join('/')}`);
    }
    for (const d of [...dirs].sort((a, b) => a.length - b.length)) {
      if (existingDirs.has(d)) continue;
      if (d.split('/').length > 2) {
        const st = await runner.run(['debugfs', '-R', `stat ${d}`, disk], { allowFailure: true });
        if (/Type: directory/.test(st.stdout)) continue;
      }
      commands.push(`mkdir ${d}`);
      commands.push(`sif ${d} mode 040700`);
    }
    files.forEach((f, i) => {
      const src = join(scratch, `f${i}`);
      writeFileSync(src, f.content, { mode: 0o600 });
      commands.push(`rm ${f.path}`, `write ${src} ${f.path}`, `sif ${f.path} mode 0${(0o100000 | f.mode).toString(8)}`, `sif ${f.path} uid 0`, `sif ${f.path} gid 0`);
    });
    // `write` with a path creates the name in the cwd, so cd to each file's directory.
    const script: string[] = [];
    for (const c of commands) {
      const m = /^write (\S+) (\/\S+)$/.exec(c);
      if (m) {
        const dir = m[2]!.slice(0, m[2]!.lastIndexOf('/')) || '/';
        script.push(`cd ${dir}`, `write ${m[1]} ${m[2]!.slice(m[2]!.lastIndexOf('/') + 1)}`, 'cd /');
      } else script.push(c);
    }
    writeFileSync(join(scratch, 'cmds'), `${script.join('\n')}\n`);
    await runner.run(['debugfs', '-w', '-f', join(scratch, 'cmds'), disk]);
    for (const f of files) {
      const st = await runner.run(['debugfs', '-R', `stat ${f.path}`, disk], { allowFailure: true });
      const size = /Size:\s+(\d+)/.exec(st.stdout);
      if (!size || Number(size[1]) !== Buffer.byteLength(f.content)) {
        throw new BangerError('operation_failed', `could not write ${f.path} into the work disk ${disk}`, { hint: 'is the disk full or damaged? `e2fsck -n` on it shows more' });
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
