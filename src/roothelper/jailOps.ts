import { linkSync, lstatSync, mkdirSync, chownSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { dmDevice, isJailedFirecracker, planJailer, sameFilesystemProblem, type JailerPlan } from '../firecracker/index.js';
import { BangerError } from '../model/index.js';
import { processIdentity, ProcessSupervisor, readLogTail, readPidFile, type HostRunner } from '../system/index.js';
import { removeTreeNoFollow } from './removeTree.js';
import { validateId, validatePathUnder, validateVmId } from './validate.js';

/**
 * The jailer's privileged steps (issue 7), for PrivilegedOps: prepare a VM's chroot, run
 * the jailer, remove the chroot. The jailer and firecracker binaries are root's choice
 * (the helper's command line, or the config of a daemon that is itself root), never a
 * request's. Every path a request names must lie under banger's directories.
 */
export interface JailBins {
  jailerBin: string;
  /** null: no firecracker on this host; jail operations are refused with that reason. */
  firecrackerBin: string | null;
}

/** What may be hard-linked into a jail, by the name Firecracker sees (IN_JAIL without the slash). */
export const JAIL_FILE_NAMES = ['vmlinux', 'initrd.img', 'rootfs', 'work.ext4'] as const;

export interface PrepareJailParams {
  vmId: string;
  chrootBase: string;
  uid: number;
  gid: number;
  files: Array<{ source: string; name: string }>;
  devices: Array<{ source: string; name: string }>;
}

export interface JailParams {
  vmId: string;
  chrootBase: string;
  uid: number;
  gid: number;
  /** The VM's console log: the jailed Firecracker's stdout and stderr (its serial console). */
  consoleLog: string;
}

const JAILER_TIMEOUT_MS = 15_000;

/** Linux dev_t to major:minor (glibc's encoding). */
export function deviceNumbers(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
  return { major, minor };
}

export function mknodArgv(path: string, kind: 'b' | 'c', n: { major: number; minor: number }): string[] {
  return ['mknod', '-m', '0600', path, kind, String(n.major), String(n.minor)];
}

export class JailOps {
  constructor(private readonly o: { runner: HostRunner; roots: readonly string[]; bins: JailBins }) {}

  private plan(p: { vmId: string; chrootBase: string; uid: number; gid: number }): JailerPlan {
    const firecrackerBin = this.o.bins.firecrackerBin;
    if (!firecrackerBin) throw new BangerError('not_found', 'no firecracker binary on this host (as root sees it)', { hint: 'install Firecracker and its jailer (e.g. /usr/bin/firecracker, /usr/bin/jailer)' });
    return planJailer({
      vmId: validateVmId(p.vmId), jailerBin: this.o.bins.jailerBin, firecrackerBin,
      chrootBase: validatePathUnder(p.chrootBase, this.o.roots, 'jailer_chroot_base'), uid: validateId(p.uid, 'uid'), gid: validateId(p.gid, 'gid'),
    });
  }

  /**
   * Makes `<base>/<exec>/<id>/root` afresh with the files hard-linked in and the device nodes
   * made, owned by uid/gid. Everything is checked before anything is made, and a failure
   * part-way removes the half-made jail.
   */
  async prepare(p: PrepareJailParams): Promise<{ chrootRoot: string }> {
    const plan = this.plan(p);
    if (!Array.isArray(p.files) || !Array.isArray(p.devices)) throw new BangerError('bad_request', 'files and devices must be lists');
    const files = p.files.map((f) => {
      if (!(JAIL_FILE_NAMES as readonly string[]).includes(f.name)) throw new BangerError('bad_request', `"${f.name}" is not a file a jail may hold (${JAIL_FILE_NAMES.join(', ')})`);
      const source = validatePathUnder(f.source, this.o.roots, f.name);
      const st = lstatSync(source);
      if (!st.isFile()) throw new BangerError('bad_request', `${source} is not a regular file`);
      return { source, dev: st.dev, name: f.name };
    });
    const devices = p.devices.map((d) => {
      const kind = this.allowedDevice(d, p.vmId);
      const st = statSync(d.source, { bigint: true });
      if (kind === 'b' ? !st.isBlockDevice() : !st.isCharacterDevice()) throw new BangerError('bad_request', `${d.source} is not a ${kind === 'b' ? 'block' : 'character'} device`);
      return { kind, numbers: deviceNumbers(st.rdev), name: d.name };
    });
    if (!this.checkJailParent(plan)) {
      mkdirSync(dirname(plan.jailDir), { mode: 0o755 });
      this.checkJailParent(plan); // made just now; checked like one found
    }
    this.refuseWhileRunning(plan, p.vmId);
    removeTreeNoFollow(plan.jailDir); // an earlier boot's jail
    mkdirSync(plan.jailDir, { mode: 0o755 });
    try {
      mkdirSync(plan.chrootRoot, { mode: 0o755 });
      for (const dir of ['run', 'dev']) mkdirSync(join(plan.chrootRoot, dir), { mode: 0o755 });
      chownSync(join(plan.chrootRoot, 'run'), p.uid, p.gid); // Firecracker makes its sockets there
      const rootDev = lstatSync(plan.chrootRoot).dev;
      for (const f of files) {
        const problem = sameFilesystemProblem({ path: f.source, dev: f.dev }, { path: plan.chrootRoot, dev: rootDev });
        if (problem) throw new BangerError('operation_failed', problem);
        linkSync(f.source, join(plan.chrootRoot, f.name));
      }
      for (const d of devices) {
        const node = join(plan.chrootRoot, d.name);
        await this.o.runner.run(mknodArgv(node, d.kind, d.numbers));
        await this.o.runner.run(['chown', `${p.uid}:${p.gid}`, node]);
      }
    } catch (e) {
      removeTreeNoFollow(plan.jailDir);
      throw e;
    }
    return { chrootRoot: plan.chrootRoot };
  }

  /**
   * `<base>/<exec name>` must be a real directory of this (root) process: the base is the
   * owner's, so a symlink or an owner-made directory there could steer root's removals and
   * links elsewhere. False when it does not exist yet.
   */
  private checkJailParent(plan: JailerPlan): boolean {
    const parent = dirname(plan.jailDir);
    let st;
    try { st = lstatSync(parent); } catch { return false; }
    if (!st.isDirectory() || st.isSymbolicLink()) throw new BangerError('unauthorized', `${parent} is not a plain directory; refusing to use it for jails`, { hint: `remove it; it is recreated at the next start` });
    if (st.uid !== process.getuid!()) throw new BangerError('unauthorized', `${parent} belongs to uid ${st.uid}, not to uid ${process.getuid!()}; refusing to use it for jails`, { hint: `remove it; it is recreated at the next start` });
    return true;
  }

  private allowedDevice(d: { source: string; name: string }, vmId: string): 'b' | 'c' {
    if (d.name === 'rootfs' && d.source === dmDevice(vmId)) return 'b';
    if (d.name === 'dev/vhost-vsock' && d.source === '/dev/vhost-vsock') return 'c';
    throw new BangerError('bad_request', `device ${d.source} as ${d.name} is not allowed in VM ${vmId}'s jail`, { hint: `allowed: ${dmDevice(vmId)} as rootfs, /dev/vhost-vsock as dev/vhost-vsock` });
  }

  /** The live process the jail's pid file (a regular file, never a link) names, or null. */
  private pidFileProcess(plan: JailerPlan): { pid: number; who: NonNullable<ReturnType<typeof processIdentity>> } | null {
    try { if (!lstatSync(plan.pidFile).isFile()) return null; } catch { return null; }
    const pid = readPidFile(plan.pidFile);
    const who = pid === null ? null : processIdentity(pid);
    return pid !== null && who ? { pid, who } : null;
  }

  private refuseWhileRunning(plan: JailerPlan, vmId: string): void {
    const named = this.pidFileProcess(plan);
    const pid = named && isJailedFirecracker(named.who, vmId) ? named.pid : null;
    if (pid !== null) throw new BangerError('conflict', `VM ${vmId}'s jailed Firecracker (pid ${pid}) is still running`, { hint: 'stop the VM first' });
  }

  /**
   * Runs the jailer for a prepared jail and returns Firecracker's pid from the jailer's pid
   * file, after checking that the process really is this VM's Firecracker under `uid`.
   */
  async start(p: JailParams): Promise<{ pid: number }> {
    const plan = this.plan(p);
    try { if (!this.checkJailParent(plan) || !lstatSync(plan.chrootRoot).isDirectory()) throw new Error(); } catch (e) {
      throw e instanceof BangerError ? e : new BangerError('bad_request', `VM ${p.vmId}'s jail is not prepared`);
    }
    const consoleLog = join(validatePathUnder(dirname(p.consoleLog), this.o.roots, 'console log directory'), basename(p.consoleLog));
    this.refuseWhileRunning(plan, p.vmId);
    const jailer = new ProcessSupervisor().start({ argv: plan.argv, logFile: consoleLog, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      jailer.exited,
      new Promise<null>((r) => { timer = setTimeout(() => r(null), JAILER_TIMEOUT_MS); }),
    ]).finally(() => clearTimeout(timer));
    if (outcome === null) {
      try { process.kill(jailer.pid, 'SIGKILL'); } catch { /* gone */ }
      throw new BangerError('operation_failed', `the jailer did not finish within ${JAILER_TIMEOUT_MS / 1000} s`, { hint: `see ${consoleLog}` });
    }
    if (outcome.code !== 0) {
      const tail = readLogTail(consoleLog, 8);
      throw new BangerError('operation_failed', `the jailer failed (${outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.code}`})`, { hint: tail ? `last lines of ${consoleLog}:\n${tail}` : `see ${consoleLog}` });
    }
    const named = this.pidFileProcess(plan);
    if (!named) throw new BangerError('operation_failed', `the jailer left no live Firecracker pid in ${plan.pidFile}`, { hint: `see ${consoleLog}` });
    const { pid, who } = named;
    if (!isJailedFirecracker(who, p.vmId, p.uid)) {
      throw new BangerError('operation_failed', `${plan.pidFile} names pid ${pid} (${who.comm}, uid ${who.uid}), which is not VM ${p.vmId}'s Firecracker running as uid ${p.uid}`);
    }
    return { pid };
  }

  /** Removes the VM's jail, never following a symlink; refused while its Firecracker runs. Absent is fine. */
  async remove(p: { vmId: string; chrootBase: string }): Promise<void> {
    const plan = this.plan({ ...p, uid: 0, gid: 0 });
    if (!this.checkJailParent(plan)) return; // no jail was ever made here
    this.refuseWhileRunning(plan, p.vmId);
    removeTreeNoFollow(plan.jailDir);
  }
}
