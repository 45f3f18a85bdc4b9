import { basename, join } from 'node:path';
import type { ProcessIdentity } from '../system/index.js';

/**
 * Who a VMM process is, judged as root judges it before trusting a pid: never by its name
 * (comm is whatever the runtime calls its main thread), always by what it runs, who it runs
 * as, and which VM it was started for.
 */

/** The VM id a Firecracker was started for: the jailer's `--id=<id>`, or `--id <id>`. */
export function firecrackerIdArg(cmdline: readonly string[]): string | null {
  for (let i = 0; i < cmdline.length; i++) {
    const a = cmdline[i]!;
    if (a.startsWith('--id=')) return a.slice(5);
    if (a === '--id' && i + 1 < cmdline.length) return cmdline[i + 1]!;
  }
  return null;
}

/** The VM id in QEMU's `-name banger-<id>` (qemu/argv.ts). */
export function qemuVmIdArg(cmdline: readonly string[]): string | null {
  const i = cmdline.indexOf('-name');
  const name = i >= 0 ? cmdline[i + 1] : undefined;
  return name?.startsWith('banger-') ? name.slice('banger-'.length) : null;
}

/**
 * Whether the process runs the executable at `path`: as its exe, or, for a script started
 * through its #! line, as the kernel hands it to the interpreter (argv[1]).
 */
export function runsExecutable(who: ProcessIdentity, path: string): boolean {
  return who.exe === path || who.cmdline[1] === path;
}

/** Every uid of the process (real, effective, saved, filesystem) is `uid`. */
export const runsAs = (who: ProcessIdentity, uid: number) => who.uids.length > 0 && who.uids.every((u) => u === uid);

/** The path of the jail's own copy of the exec file (the jailer copies it into the chroot). */
export const jailedExecPath = (jailBase: string, execName: string, vmId: string) =>
  join(jailBase, execName, vmId, 'root', execName);

/** Whether `who` is VM `vmId`'s jailed Firecracker: the jail's exec file, `--id=<vmId>`, running as `uid`. */
export function isJailedFirecrackerOf(
  who: ProcessIdentity,
  o: { jailBase: string; firecrackerBin: string; vmId: string; uid: number },
): boolean {
  return (
    runsAs(who, o.uid) &&
    firecrackerIdArg(who.cmdline) === o.vmId &&
    runsExecutable(who, jailedExecPath(o.jailBase, basename(o.firecrackerBin), o.vmId))
  );
}

/**
 * The VM id of a banger VMM running as `uid`, or null: a jailed Firecracker (the jail's copy
 * of root's binary), a plain Firecracker (root's binary) or a QEMU started with banger's
 * `-name`. Whether that VM exists is the caller's to check.
 */
export function vmmVmId(
  who: ProcessIdentity,
  o: { jailBase: string; firecrackerBin: string | null; uid: number },
): string | null {
  if (!runsAs(who, o.uid)) return null;
  const fcId = firecrackerIdArg(who.cmdline);
  if (fcId !== null && o.firecrackerBin) {
    if (
      runsExecutable(who, jailedExecPath(o.jailBase, basename(o.firecrackerBin), fcId)) ||
      runsExecutable(who, o.firecrackerBin)
    )
      return fcId;
  }
  if (who.exe && /^qemu-system-[a-z0-9_]+$/.test(basename(who.exe))) return qemuVmIdArg(who.cmdline);
  return null;
}
