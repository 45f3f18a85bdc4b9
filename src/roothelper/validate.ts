import { isIPv4 } from 'node:net';
import { lstatSync, readFileSync, readlinkSync, existsSync } from 'node:fs';
import { basename, isAbsolute, join, normalize, sep } from 'node:path';
import { BangerError, VM_ID_PATTERN } from '../model/index.js';
import { ALLOWED_SIGNALS, type AllowedSignal } from './privilegedOps.js';

/**
 * Argument validation of the privileged operations (SPEC 2). Each validator throws
 * BangerError('bad_request' | 'unauthorized') with a sentence naming the argument, and
 * returns the value otherwise. Pure except where noted (paths and pids need the host).
 */
const bad = (msg: string) => new BangerError('bad_request', msg);

/** `br-fc` or `br-fc-*`, within IFNAMSIZ. */
export function validateBridgeName(name: string): string {
  if (!/^br-fc(-[a-z0-9-]{1,9})?$/.test(name)) throw bad(`bridge name "${name}" is not allowed: it must be br-fc or br-fc-<suffix> (at most 15 characters)`);
  return name;
}

/** `tap-fc-*` or `tap-pool-*`, within IFNAMSIZ. */
export function validateTapName(name: string): string {
  if (!/^tap-(fc|pool)-[a-z0-9]{1,8}$/.test(name) || name.length > 15) {
    throw bad(`tap name "${name}" is not allowed: it must be tap-fc-<id> or tap-pool-<n> (at most 15 characters)`);
  }
  return name;
}

export function validatePrefix(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 8 || prefix > 32) throw bad(`CIDR prefix ${prefix} is out of range 8..32`);
  return prefix;
}

export function validateIPv4(ip: string, what = 'address'): string {
  if (!isIPv4(ip)) throw bad(`${what} "${ip}" is not an IPv4 address`);
  return ip;
}

export function validateVmId(id: string): string {
  if (!VM_ID_PATTERN.test(id)) throw bad(`VM id "${id}" is not 8 lowercase hex characters`);
  return id;
}

/** Banger's nft table, or a test table `banger_<suffix>`. */
export function validateNftTable(name: string): string {
  if (!/^banger(_[a-z0-9]{1,16})?$/.test(name)) throw bad(`nft table "${name}" is not banger's`);
  return name;
}

/** An existing host interface used as NAT uplink (never a banger device). */
export function validateUplink(name: string): string {
  if (!/^[a-zA-Z0-9_.:-]{1,15}$/.test(name) || name.startsWith('tap-') || name.startsWith('br-fc')) throw bad(`uplink "${name}" is not a valid host interface name`);
  if (!existsSync(`/sys/class/net/${name}`)) throw bad(`uplink interface "${name}" does not exist`);
  return name;
}

export function validateId(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xfffffffe) throw bad(`${what} ${n} is not a valid id`);
  return n;
}

export function validateMode(mode: number): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw bad(`file mode ${mode} is not a valid permission mode`);
  return mode;
}

export function validateSignal(signal: string): AllowedSignal {
  if (!(ALLOWED_SIGNALS as readonly string[]).includes(signal)) throw bad(`signal "${signal}" is not allowed (allowed: ${ALLOWED_SIGNALS.join(', ')})`);
  return signal as AllowedSignal;
}

/**
 * A path inside a guest image: absolute, normalised, and made only of plain components
 * (debugfs splits its commands on white space, so nothing fancier is accepted).
 */
export function validateGuestPath(path: string): string {
  if (!path.startsWith('/') || normalize(path) !== path || path === '/' || path.endsWith('/')) throw bad(`guest path "${path}" must be an absolute, normalised file path`);
  for (const part of path.slice(1).split('/')) {
    if (!/^[A-Za-z0-9._+@-]+$/.test(part) || part === '.' || part === '..') throw bad(`guest path "${path}" has an unsupported component "${part}"`);
  }
  return path;
}

/**
 * A host path that must lie under one of `roots` with no symlink anywhere: every
 * component from the root down is lstat'ed (SPEC 2). Host-dependent.
 */
export function validatePathUnder(path: string, roots: readonly string[], what = 'path'): string {
  if (!isAbsolute(path) || normalize(path) !== path) throw bad(`${what} "${path}" must be absolute and normalised`);
  const root = roots.find((r) => path === r || path.startsWith(r.endsWith(sep) ? r : r + sep));
  if (!root) throw new BangerError('unauthorized', `${what} "${path}" is outside banger's directories (${roots.join(', ')})`);
  let current = '';
  for (const part of path.split(sep).slice(1)) {
    current += sep + part;
    let st;
    try { st = lstatSync(current); } catch { throw bad(`${what} "${path}": ${current} does not exist`); }
    if (st.isSymbolicLink()) throw new BangerError('unauthorized', `${what} "${path}" goes through a symlink at ${current}; refusing`);
  }
  return path;
}

/** Executables that may be signalled: banger's VMMs. */
const VMM_EXECUTABLES = new Set(['qemu-system-x86_64', 'firecracker', 'jailer']);
const isVmmExecutable = (name: string) => VMM_EXECUTABLES.has(name) || name.includes('firecracker');

/**
 * A pid that is a banger VMM: its executable is a known VMM and its command line names
 * a path under one of banger's directories. Host-dependent (/proc).
 */
export function validateVmmPid(pid: number, roots: readonly string[]): number {
  if (!Number.isInteger(pid) || pid <= 1) throw bad(`pid ${pid} is not a valid process id`);
  let exe: string;
  let cmdline: string[];
  try {
    exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    throw new BangerError('not_found', `process ${pid} does not exist`);
  }
  if (!isVmmExecutable(basename(exe))) throw new BangerError('unauthorized', `process ${pid} (${basename(exe)}) is not a banger VMM; refusing to signal it`);
  // A jailed Firecracker sees only its chroot: it names its VM by the jailer's --id=<id>.
  const jailedVm = cmdline.map((a) => (a.startsWith('--id=') ? a.slice(5) : '')).find((id) => VM_ID_PATTERN.test(id));
  const mentionsBanger = cmdline.some((arg) => roots.some((r) => arg.includes(r.endsWith(sep) ? r : r + sep)))
    || (jailedVm !== undefined && roots.some((r) => existsSync(join(r, 'vms', jailedVm))));
  if (!mentionsBanger) throw new BangerError('unauthorized', `process ${pid} is a ${basename(exe)} not started by banger; refusing to signal it`);
  return pid;
}

/** A DNS domain banger may route: one lowercase label (e.g. "vm"). */
export function validateDnsDomain(domain: string): string {
  if (typeof domain !== 'string' || !/^[a-z][a-z0-9-]{0,30}$/.test(domain)) throw bad(`DNS domain "${String(domain)}" is not allowed: one lowercase label such as "vm"`);
  return domain;
}
