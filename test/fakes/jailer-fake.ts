/**
 * A stand-in `jailer` for tests, following Firecracker's docs/jailer.md (v1.14): the same
 * arguments and checks (id of at most 64 alphanumerics and hyphens, an exec file whose name
 * contains "firecracker", numeric uid/gid), the chroot `<base>/<exec name>/<id>/root` made
 * with the exec file copied in and /dev/net/tun and /dev/kvm nodes owned by uid:gid, and
 * with --new-pid-ns the exec file started as uid:gid with `--id=<id>` and the forwarded
 * arguments, its pid written to `<exec name>.pid` in the chroot, and the jailer exiting.
 *
 * What it cannot do: pivot_root and a new pid namespace (the child runs in the host's, and
 * is told its jail through BANGER_FAKE_JAIL_ROOT), cgroups and netns (refused here, as
 * banger does not use them), and exec-in-place without --new-pid-ns (refused).
 */
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, constants, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

function fail(message: string): never {
  process.stderr.write(`jailer-fake: ${message}\n`);
  process.exit(1);
}

const dashes = process.argv.indexOf('--', 2);
const own = dashes < 0 ? process.argv.slice(2) : process.argv.slice(2, dashes);
const forwarded = dashes < 0 ? [] : process.argv.slice(dashes + 1);
let values;
try {
  ({ values } = parseArgs({
    args: own,
    strict: true,
    options: {
      id: { type: 'string' },
      'exec-file': { type: 'string' },
      uid: { type: 'string' },
      gid: { type: 'string' },
      'chroot-base-dir': { type: 'string', default: '/srv/jailer' },
      daemonize: { type: 'boolean' },
      'new-pid-ns': { type: 'boolean' },
    },
  }));
} catch (e) {
  fail((e as Error).message);
}
const id = values.id ?? fail('--id is required');
const execFile = values['exec-file'] ?? fail('--exec-file is required');
if (!/^[a-zA-Z0-9-]{1,64}$/.test(id)) fail(`invalid id "${id}"`);
if (!basename(execFile).includes('firecracker')) fail(`the exec file name must include "firecracker": ${execFile}`);
if (!existsSync(execFile)) fail(`exec file not found: ${execFile}`);
const uid = Number(values.uid ?? fail('--uid is required'));
const gid = Number(values.gid ?? fail('--gid is required'));
if (!Number.isInteger(uid) || !Number.isInteger(gid)) fail('uid and gid must be numbers');
if (!values['new-pid-ns']) fail('this stand-in emulates --new-pid-ns only (it cannot exec in place)');

const execName = basename(execFile);
const chroot = join(values['chroot-base-dir'], execName, id, 'root');
mkdirSync(chroot, { recursive: true });
// Never through an existing name, as jailer 1.14.1 (O_NOFOLLOW and a link-count check).
copyFileSync(execFile, join(chroot, execName), constants.COPYFILE_EXCL);
chmodSync(join(chroot, execName), 0o755);
for (const [node, major, minor] of [
  ['dev/net/tun', 10, 200],
  ['dev/kvm', 10, 232],
] as const) {
  mkdirSync(join(chroot, node, '..'), { recursive: true });
  if (!existsSync(join(chroot, node))) execFileSync('mknod', [join(chroot, node), 'c', String(major), String(minor)]);
  chownSync(join(chroot, node), uid, gid);
}
chownSync(chroot, uid, gid);
const child = spawn(
  join(chroot, execName),
  [`--id=${id}`, '--start-time-us=0', '--start-time-cpu-us=0', ...forwarded],
  {
    cwd: chroot,
    uid,
    gid,
    env: { BANGER_FAKE_JAIL_ROOT: chroot },
    stdio: values.daemonize ? 'ignore' : 'inherit',
  },
);
child.on('error', (e) => fail(`cannot exec ${execName}: ${e.message}`));
await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
writeFileSync(join(chroot, `${execName}.pid`), `${child.pid}\n`);
child.unref();
process.exit(0);
