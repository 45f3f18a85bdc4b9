/**
 * The adversarial tier's arena: a real unprivileged user as the install's owner, its state
 * directory, root's own directory, a canary tree of root's files that every planted link
 * points at, and the real root helper (dist/banger-root-helper.js) serving that owner. The
 * hostile owner (hostileOwner.ts) runs as that user. Everything is made under one /tmp
 * directory with a unique prefix and removed in `cleanup`, with the user, even when a test
 * fails.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { distRootHelper, nodeForAnyUser, removeTestUser, repoRoot, waitFor } from '../integration/harness.js';
import { acceptsConnections } from '../../src/system/index.js';

export interface Arena {
  tag: string;
  base: string;
  user: string;
  uid: number;
  gid: number;
  /** The owner's state directory (the owner's, 0700). */
  state: string;
  /** Root's own directory for this install (made by the helper). */
  rootState: string;
  /** Root's files that planted links point at; nothing may change here. */
  canary: string;
  /** World-readable: the hostile owner's script, the addon, the stand-in jailer and firecracker. */
  bin: string;
  socket: string;
  bridge: { name: string; ip: string; cidr: number };
  nftTable: string;
  /** The helper's JSON log so far. */
  helperLog(): string;
  /** Runs the hostile owner with a spec (see hostileOwner.ts); resolves with its counts. */
  asOwner(spec: Record<string, unknown>): Promise<Record<string, number>>;
  /** Runs a shell command as the owner. */
  ownerSh(script: string): void;
  /** Everything under the arena outside the owner's and root's trees: type, owner, mode, links, content. */
  snapshotOutside(): string;
  cleanup(): Promise<void>;
}

/** A stand-in jailer (Firecracker's jailer.md, as far as banger uses it): copies the exec file in, starts it as uid:gid, writes its pid, exits. */
const JAILER_SH = `#!/bin/sh
set -eu
while [ $# -gt 0 ]; do
  case "$1" in
    --id) id=$2; shift 2;; --exec-file) exe=$2; shift 2;; --uid) uid=$2; shift 2;; --gid) gid=$2; shift 2;;
    --chroot-base-dir) base=$2; shift 2;; --new-pid-ns) shift;; --) shift; break;;
    *) echo "jailer stand-in: unknown argument $1" >&2; exit 1;;
  esac
done
name=$(basename "$exe")
root="$base/$name/$id/root"
# Never through an existing name (jailer 1.14.1: O_NOFOLLOW), and / and /run handed to uid:gid as the jailer does.
set -C
cat "$exe" > "$root/$name"
set +C
chmod 0755 "$root/$name"
chown "$uid:$gid" "$root" "$root/run"
setpriv --reuid="$uid" --regid="$gid" --clear-groups "$root/$name" --id="$id" "$@" </dev/null >/dev/null 2>&1 &
echo $! > "$root/$name.pid"
`;
/** A stand-in Firecracker: a #! script that waits to be signalled (so its argv[1] is the jail's exec file). */
const FIRECRACKER_SH = '#!/bin/sh\nsleep 300\n';

export async function makeArena(): Promise<Arena> {
  const tag = randomBytes(3).toString('hex');
  const user = `bgta${tag}`;
  const base = mkdtempSync(`/tmp/bgta-${tag}-`);
  chmodSync(base, 0o755);
  execFileSync('useradd', ['-M', '-r', '-s', '/usr/sbin/nologin', user]);
  let helper: ChildProcess | null = null;
  let log = '';
  const arena = {} as Arena;
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    const state = join(base, 'state');
    const canary = join(base, 'canary');
    const bin = join(base, 'bin');
    mkdirSync(state, { mode: 0o700 });
    execFileSync('chown', [`${uid}:${gid}`, state]);
    mkdirSync(join(canary, 'dir'), { recursive: true });
    writeFileSync(join(canary, 'secret'), 'root secret\n', { mode: 0o600 });
    writeFileSync(join(canary, 'passwd'), 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 });
    writeFileSync(join(canary, 'dir', 'keep'), 'keep me\n', { mode: 0o644 });
    mkdirSync(bin, { mode: 0o755 });
    copyFileSync(join(repoRoot, 'build', 'test', 'adversarial', 'hostileOwner.js'), join(bin, 'hostileOwner.mjs'));
    copyFileSync(join(repoRoot, 'dist', 'native', 'hostcalls.node'), join(bin, 'hostcalls.node'));
    writeFileSync(join(bin, 'jailer'), JAILER_SH, { mode: 0o755 });
    writeFileSync(join(bin, 'firecracker'), FIRECRACKER_SH, { mode: 0o755 });
    mkdirSync(join(base, 'run'), { mode: 0o755 });
    const socket = join(base, 'run', 'helper.sock');
    const bridge = { name: `br-fc-za${tag.slice(0, 4)}`, ip: `10.217.${randomInt(10, 250)}.1`, cidr: 24 };
    const nftTable = `banger_za${tag}`;
    helper = spawn(
      process.execPath,
      [
        distRootHelper,
        '--socket',
        socket,
        '--owner-uid',
        String(uid),
        '--owner-gid',
        String(gid),
        '--state-dir',
        state,
        '--root-state-dir',
        join(base, 'root'),
        '--bridge',
        bridge.name,
        '--bridge-ip',
        bridge.ip,
        '--cidr',
        String(bridge.cidr),
        '--nft-table',
        nftTable,
        '--jailer-bin',
        join(bin, 'jailer'),
        '--firecracker-bin',
        join(bin, 'firecracker'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    helper.stdout!.on('data', (d) => {
      log += d;
    });
    helper.stderr!.on('data', (d) => {
      log += d;
    });
    if (!(await waitFor(() => acceptsConnections(socket), 10_000)))
      throw new Error(`the root helper did not start: ${log}`);
    Object.assign(arena, {
      tag,
      base,
      user,
      uid,
      gid,
      state,
      rootState: join(base, 'root'),
      canary,
      bin,
      socket,
      bridge,
      nftTable,
      helperLog: () => log,
      asOwner: (spec: Record<string, unknown>) =>
        new Promise<Record<string, number>>((resolve, reject) => {
          const full = spec.mode === 'swap' ? { addon: join(bin, 'hostcalls.node'), ...spec } : { socket, ...spec };
          const child = spawn(nodeForAnyUser(), [join(bin, 'hostileOwner.mjs'), JSON.stringify(full)], {
            uid,
            gid,
            cwd: '/',
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          let err = '';
          child.stdout!.on('data', (d) => {
            out += d;
          });
          child.stderr!.on('data', (d) => {
            err += d;
          });
          child.on('close', (code) => {
            try {
              resolve(JSON.parse(out.trim().split('\n').pop()!));
            } catch {
              reject(new Error(`the hostile owner failed (exit ${code}): ${err}${out}`));
            }
          });
        }),
      ownerSh: (script: string) => {
        execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '/bin/sh', '-c', script], {
          stdio: 'pipe',
        });
      },
      snapshotOutside: () => snapshot(base, new Set([state, join(base, 'root'), join(base, 'run')])),
      cleanup: async () => {
        try {
          execFileSync('pkill', ['-KILL', '-u', user], { stdio: 'ignore' });
        } catch {
          /* none left */
        }
        helper?.kill('SIGTERM');
        await waitFor(() => helper?.exitCode !== null || helper?.signalCode !== null, 5_000);
        try {
          execFileSync('ip', ['link', 'del', bridge.name], { stdio: 'ignore' });
        } catch {
          /* never made */
        }
        try {
          execFileSync('nft', ['delete', 'table', 'ip', nftTable], { stdio: 'ignore' });
        } catch {
          /* never made */
        }
        detachLoopsUnder(base);
        rmSync(base, { recursive: true, force: true });
        await removeTestUser(user);
      },
    } satisfies Arena);
    return arena;
  } catch (e) {
    helper?.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
    await removeTestUser(user).catch(() => {
      /* the start's own error is the one to report */
    });
    throw e;
  }
}

/** One line per entry: path, type, uid:gid, mode, link count, and content hash or link target. */
function snapshot(top: string, skip: ReadonlySet<string>): string {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (skip.has(p)) continue;
      const st = lstatSync(p);
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(p)}`
        : st.isFile()
          ? createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)
          : st.isDirectory()
            ? 'dir'
            : 'other';
      lines.push(`${relative(top, p)} ${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} n${st.nlink} ${what}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(top);
  return lines.join('\n');
}

/** Loop devices whose backing file lies under `dir` (what a failed test may leave). */
export function loopsUnder(dir: string): string[] {
  const out = execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && f[1]!.startsWith(`${dir}/`))
    .map((f) => f[0]!);
}

function detachLoopsUnder(dir: string): void {
  for (const loop of loopsUnder(dir))
    try {
      execFileSync('losetup', ['-d', loop]);
    } catch {
      /* gone */
    }
}
