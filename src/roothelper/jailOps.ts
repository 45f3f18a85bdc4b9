import { constants, fchownSync, fstatSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { planJailer, sameFilesystemProblem, type JailerPlan } from '../firecracker/index.js';
import { dmDevice } from '../vmdisk/index.js';
import { BangerError } from '../model/index.js';
import { vmStateRelative } from '../paths/index.js';
import type { PrivParams } from '../privops/index.js';
import { FdDir, hostcalls, processIdentity, ProcessSupervisor, type HostRunner } from '../system/index.js';
import { closeQuietly, jailBaseOf, openOwnerInput, openOwnerState, openRootState, type HelperScope } from './scope.js';
import { isJailedFirecrackerOf } from './vmmIdentity.js';

/**
 * The jailer's privileged steps, for PrivilegedOps: prepare a VM's chroot, run the jailer,
 * remove the chroot. Jails live in root's own directory (`<root state>/jail`), which the
 * owner can neither write nor rename; the owner's files are opened once under its state
 * directory and hard-linked in by descriptor. The binaries are root's choice (the helper's
 * command line, or a root daemon's config), the uid/gid the install owner's.
 */
export interface JailBins {
  jailerBin: string;
  /** null: no firecracker on this host; jail operations are refused with that reason. */
  firecrackerBin: string | null;
}

const JAILER_TIMEOUT_MS = 15_000;
/**
 * The directories of a jail (relative to `<vm id>/`) that root makes, which may stay root's
 * inside a chroot the jailer handed to the owner; anything else root-owned found below a
 * directory of the owner's was moved there by the owner, and root does not remove it.
 */
const JAIL_SKELETON: ReadonlySet<string> = new Set(['root', 'root/dev', 'root/dev/net', 'root/run', 'root/disk']);
/** How long the jailer's child may take to become Firecracker after the jailer has exited. */
const EXEC_WAIT_MS = 3_000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** The last `lines` lines of at most the last 4 KiB of the file open as `fd` (an owner's file: bounded). */
function tailOf(fd: number, lines: number): string {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(Math.min(4096, size));
  const n = readSync(fd, buf, 0, buf.length, size - buf.length);
  return buf.subarray(0, n).toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Linux dev_t to major:minor (glibc's encoding). */
export function deviceNumbers(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
  return { major, minor };
}

export class JailOps {
  constructor(private readonly o: { scope: HelperScope; bins: JailBins; runner?: HostRunner }) {}

  private plan(vmId: string): JailerPlan & { execName: string; firecrackerBin: string } {
    const firecrackerBin = this.o.bins.firecrackerBin;
    if (!firecrackerBin)
      throw new BangerError('not_found', 'no firecracker binary on this host (as root sees it)', {
        hint: 'install Firecracker and its jailer (e.g. /usr/bin/firecracker, /usr/bin/jailer)',
      });
    const { scope } = this.o;
    const plan = planJailer({
      vmId,
      jailerBin: this.o.bins.jailerBin,
      firecrackerBin,
      chrootBase: jailBaseOf(scope),
      uid: scope.ownerUid,
      gid: scope.ownerGid,
    });
    return { ...plan, execName: basename(firecrackerBin), firecrackerBin };
  }

  /** `<root state>/jail/<exec name>`, held open: made (root, 0711) where absent. */
  private openExecDir(execName: string): FdDir {
    return openRootState(this.o.scope).use((root) =>
      root.ensureDir('jail', 0o711).use((jail) => jail.ensureDir(execName, 0o711)),
    );
  }

  /**
   * Makes the jail afresh with the owner's files hard-linked in and the device nodes made,
   * owned by the owner. Inputs are opened and checked before anything is made; a failure
   * part-way removes the half-made jail.
   */
  async prepare(p: PrivParams<'prepareJail'>): Promise<{ chrootRoot: string }> {
    const plan = this.plan(p.vmId);
    const { scope } = this.o;
    const devices = p.devices.map((d) => this.allowedDevice(d, p.vmId));
    const execDir = this.openExecDir(plan.execName);
    const inputs: Array<{ fd: number; dev: number; name: string }> = [];
    try {
      this.refuseWhileRunning(execDir, plan, p.vmId);
      execDir.removeTree(p.vmId, JAIL_SKELETON); // an earlier boot's jail
      openOwnerState(scope).use((owner) => {
        for (const f of p.files) inputs.push({ ...openOwnerInput(owner, scope, f.source, f.name), name: f.name });
      });
      const vmDir = execDir.makeDir(p.vmId, 0o711);
      try {
        vmDir.makeDir('root', 0o755).use((chroot) => {
          chroot.makeDir('run', 0o700).use((run) => fchownSync(run.fd, scope.ownerUid, scope.ownerGid)); // Firecracker makes its sockets there
          const rootDev = chroot.stat().dev;
          for (const f of inputs) {
            const problem = sameFilesystemProblem(
              { path: f.name, dev: f.dev },
              { path: plan.chrootRoot, dev: rootDev },
            );
            if (problem) throw new BangerError('operation_failed', problem);
            hostcalls().linkAt(f.fd, chroot.fd, f.name);
          }
          // Device nodes are root's, usable by the owner's group (0660): protected_hardlinks
          // then refuses the owner a link to them, and the root disk sits in disk/, which stays
          // root's (the jailer hands /, /dev and /run to the owner), so it cannot be renamed
          // out of the jail either. A node kept outside would outlive the VM's device.
          chroot.makeDir('dev', 0o755).use((dev) =>
            chroot.makeDir('disk', 0o755).use((disk) => {
              for (const d of devices) {
                const dir = d.name === 'rootfs' ? disk : dev;
                const leaf = basename(d.name);
                hostcalls().mknodAt(dir.fd, leaf, d.type | 0o660, d.numbers.major, d.numbers.minor);
                hostcalls().fchownAt(dir.fd, leaf, 0, scope.ownerGid);
              }
            }),
          );
        });
      } catch (e) {
        execDir.removeTree(p.vmId, JAIL_SKELETON);
        throw e;
      } finally {
        vmDir.close();
      }
    } finally {
      for (const f of inputs) closeQuietly(f.fd);
      execDir.close();
    }
    return { chrootRoot: plan.chrootRoot };
  }

  /** Only the VM's own device-mapper snapshot as its root disk, and the host's vhost-vsock. */
  private allowedDevice(
    d: { source: string; name: string },
    vmId: string,
  ): { name: string; type: number; numbers: { major: number; minor: number } } {
    let type: number;
    if (d.name === 'rootfs' && d.source === dmDevice(vmId)) type = S_IFBLK;
    else if (d.name === 'dev/vhost-vsock' && d.source === '/dev/vhost-vsock') type = S_IFCHR;
    else
      throw new BangerError('bad_request', `device ${d.source} as ${d.name} is not allowed in VM ${vmId}'s jail`, {
        hint: `allowed: ${dmDevice(vmId)} as rootfs, /dev/vhost-vsock as dev/vhost-vsock`,
      });
    // /dev and /dev/mapper are root's: the name cannot be swapped by the owner.
    const st = statSync(d.source, { bigint: true });
    if (type === S_IFBLK ? !st.isBlockDevice() : !st.isCharacterDevice())
      throw new BangerError('bad_request', `${d.source} is not a ${type === S_IFBLK ? 'block' : 'character'} device`);
    return { name: d.name, type, numbers: deviceNumbers(st.rdev) };
  }

  /** The live process the jail's pid file names, when it is this VM's Firecracker; else null. */
  private runningPid(execDir: FdDir, plan: ReturnType<JailOps['plan']>, vmId: string): number | null {
    let fd: number;
    try {
      fd = execDir.openRegular(`${vmId}/root/${plan.execName}.pid`, constants.O_RDONLY);
    } catch {
      return null;
    }
    let text: string;
    try {
      if (!FdDir.isRegular(fd)) return null;
      const buf = Buffer.alloc(32); // a pid; the owner must not make root read more
      text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeQuietly(fd);
    }
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 1) return null;
    const who = processIdentity(pid);
    const { scope } = this.o;
    return who &&
      isJailedFirecrackerOf(who, {
        jailBase: jailBaseOf(scope),
        firecrackerBin: plan.firecrackerBin,
        vmId,
        uid: scope.ownerUid,
      })
      ? pid
      : null;
  }

  private refuseWhileRunning(execDir: FdDir, plan: ReturnType<JailOps['plan']>, vmId: string): void {
    const pid = this.runningPid(execDir, plan, vmId);
    if (pid !== null)
      throw new BangerError('conflict', `VM ${vmId}'s jailed Firecracker (pid ${pid}) is still running`, {
        hint: 'stop the VM first',
      });
  }

  /**
   * Runs the jailer for a prepared jail, its output appended to the VM's console log (the
   * owner's file, opened by descriptor), and returns Firecracker's pid from the jailer's pid
   * file once that process is checked to be this VM's Firecracker running as the owner.
   */
  async start(p: PrivParams<'startJailer'>): Promise<{ pid: number }> {
    const plan = this.plan(p.vmId);
    const { scope } = this.o;
    const consoleName = `${scope.ownerStateDir}/${vmStateRelative(p.vmId).consoleLog}`;
    const execDir = this.openExecDir(plan.execName);
    let logFd: number | null = null;
    try {
      this.requireFreshJail(execDir, plan, p.vmId);
      this.refuseWhileRunning(execDir, plan, p.vmId);
      logFd = this.openConsoleLog(p.vmId);
      const jailer = new ProcessSupervisor().start({
        argv: plan.argv,
        logFile: consoleName,
        logFd,
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      });
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        jailer.exited,
        new Promise<null>((r) => {
          timer = setTimeout(() => r(null), JAILER_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      if (outcome === null) {
        try {
          process.kill(jailer.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        throw new BangerError('operation_failed', `the jailer did not finish within ${JAILER_TIMEOUT_MS / 1000} s`, {
          hint: `see ${consoleName}`,
        });
      }
      if (outcome.code !== 0) {
        const tail = tailOf(logFd, 8);
        throw new BangerError(
          'operation_failed',
          `the jailer failed (${outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.code}`})`,
          { hint: tail ? `last lines of ${consoleName}:\n${tail}` : `see ${consoleName}` },
        );
      }
      // The jailer may exit before its child has exec'd Firecracker: give the exec a moment.
      let pid = this.runningPid(execDir, plan, p.vmId);
      for (let waited = 0; pid === null && waited < EXEC_WAIT_MS; waited += 20) {
        await new Promise((r) => setTimeout(r, 20));
        pid = this.runningPid(execDir, plan, p.vmId);
      }
      if (pid === null)
        throw new BangerError(
          'operation_failed',
          `the jailer left no pid of VM ${p.vmId}'s Firecracker, running as uid ${scope.ownerUid}, in ${plan.pidFile}`,
          { hint: `see ${consoleName}` },
        );
      return { pid };
    } finally {
      if (logFd !== null) closeQuietly(logFd);
      execDir.close();
    }
  }

  /**
   * The jailer runs only on a jail prepare just made: root's (0755, nobody else can write),
   * without the exec file or pid file of an earlier run. After a run the jailer has handed
   * the chroot to the owner, who could have planted a link where the jailer copies the exec
   * file (jailers before 1.14.1 follow it).
   */
  private requireFreshJail(execDir: FdDir, plan: ReturnType<JailOps['plan']>, vmId: string): void {
    let chroot: FdDir;
    try {
      chroot = execDir.openDir(`${vmId}/root`);
    } catch {
      throw new BangerError('bad_request', `VM ${vmId}'s jail is not prepared`);
    }
    chroot.use((c) => {
      const st = c.stat();
      const used = c.entries().some((e) => e === plan.execName || e === `${plan.execName}.pid`);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0 || used) {
        throw new BangerError(
          'conflict',
          `VM ${vmId}'s jail was already used by a jailer; prepare it again before starting`,
          { hint: 'the daemon does this at every start; retry `banger vm start`' },
        );
      }
    });
  }

  /**
   * The VM's console log for appending: created for the owner (O_EXCL, so root chowns only
   * a file it just made), or else an existing regular file that is already the owner's.
   */
  private openConsoleLog(vmId: string): number {
    const { scope } = this.o;
    const rel = vmStateRelative(vmId).consoleLog;
    const append = constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK;
    return openOwnerState(scope).use((owner) => {
      let fd: number;
      try {
        fd = owner.openFile(rel, append | constants.O_CREAT | constants.O_EXCL, 0o600);
        fchownSync(fd, scope.ownerUid, scope.ownerGid);
        return fd;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      fd = owner.openRegular(rel, append);
      try {
        FdDir.requireOwnedRegular(fd, scope.ownerUid, `VM ${vmId}'s console log`);
        return fd;
      } catch (e) {
        closeQuietly(fd);
        throw e;
      }
    });
  }

  /** Removes the VM's jail by descriptor; refused while its Firecracker runs. Absent is fine. */
  async remove(p: PrivParams<'removeJail'>): Promise<void> {
    const plan = this.plan(p.vmId);
    this.openExecDir(plan.execName).use((execDir) => {
      this.refuseWhileRunning(execDir, plan, p.vmId);
      execDir.removeTree(p.vmId, JAIL_SKELETON);
    });
  }
}
