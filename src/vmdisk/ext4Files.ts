/**
 * Writes files into an ext4 image without mounting it, in one debugfs session. Two
 * debugfs traps shape it: `mkdir` of a name that already exists corrupts the filesystem
 * (an orphaned directory inode), so only missing parents are created; and `write` with
 * a path creates the name in the current directory, so each file is written after a
 * `cd` to its directory. debugfs exits 0 even when a command fails, so every file is
 * checked afterwards (size, mode, owner).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { BangerError } from '../model/index.js';
import type { HostRunner } from '../system/index.js';

export interface Ext4File {
  /** Absolute path inside the filesystem. */
  path: string;
  content: string | Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

export interface Ext4WriteOptions {
  /** Mode for parent directories this creates; debugfs's default when omitted. */
  dirMode?: number;
}

export async function writeExt4Files(
  runner: HostRunner,
  image: string,
  files: readonly Ext4File[],
  opts: Ext4WriteOptions = {},
): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'banger-debugfs-'));
  try {
    const parents = new Set<string>();
    for (const f of files) {
      const segs = posix.dirname(f.path).split('/').filter(Boolean);
      for (let i = 1; i <= segs.length; i++) parents.add(`/${segs.slice(0, i).join('/')}`);
    }
    const script: string[] = [];
    for (const dir of [...parents].sort((a, b) => a.split('/').length - b.split('/').length)) {
      const st = await runner.run(['debugfs', '-R', `stat ${dir}`, image], { allowFailure: true });
      if (/Type: directory/.test(st.stdout)) continue;
      script.push(`mkdir ${dir}`);
      if (opts.dirMode !== undefined) script.push(`sif ${dir} mode 0${(0o040000 | opts.dirMode).toString(8)}`);
    }
    files.forEach((f, i) => {
      const src = join(scratch, `f${i}`);
      writeFileSync(src, f.content, { mode: 0o600 });
      const name = posix.basename(f.path);
      script.push(
        `cd ${posix.dirname(f.path)}`,
        `rm ${name}`,
        `write ${src} ${name}`,
        'cd /',
        `sif ${f.path} mode 0${(0o100000 | f.mode).toString(8)}`,
        `sif ${f.path} uid ${f.uid ?? 0}`,
        `sif ${f.path} gid ${f.gid ?? 0}`,
      );
    });
    writeFileSync(join(scratch, 'commands'), `${script.join('\n')}\n`);
    const r = await runner.run(['debugfs', '-w', '-f', join(scratch, 'commands'), image]);
    for (const f of files) {
      const got = parseDebugfsStat(
        (await runner.run(['debugfs', '-R', `stat ${f.path}`, image], { allowFailure: true })).stdout,
      );
      const want = {
        size: Buffer.byteLength(f.content),
        mode: f.mode.toString(8).padStart(4, '0'),
        uid: f.uid ?? 0,
        gid: f.gid ?? 0,
      };
      if (!got || got.size !== want.size || got.mode !== want.mode || got.uid !== want.uid || got.gid !== want.gid) {
        throw new BangerError(
          'operation_failed',
          `writing ${f.path} into ${image} failed: ${r.stderr.trim().split('\n').slice(-2).join('; ') || 'the file is not as written'}`,
          {
            hint: 'is the image full or not ext4? `e2fsck -n` on it shows more',
          },
        );
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Reads size, permission bits and owner from `debugfs -R "stat PATH"` output. */
export function parseDebugfsStat(out: string): { size: number; mode: string; uid: number; gid: number } | null {
  const mode = /Mode:\s+0?(\d{3,4})/.exec(out);
  const uid = /User:\s+(\d+)/.exec(out);
  const gid = /Group:\s+(\d+)/.exec(out);
  const size = /Size:\s+(\d+)/.exec(out);
  if (!mode || !uid || !gid || !size) return null;
  return { size: Number(size[1]), mode: mode[1]!.padStart(4, '0'), uid: Number(uid[1]), gid: Number(gid[1]) };
}
