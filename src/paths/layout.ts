import { join } from 'node:path';

/**
 * Every directory, file and socket name banger uses, in one place (docs/architecture.md).
 * Pure: building a Layout touches nothing on disk.
 *
 * User mode follows XDG; system mode uses the FHS locations of docs/reference/config.md.
 */
export type Mode = 'user' | 'system';

/**
 * The one PATH root's tools are found on (the root helper, its unit, the fallback
 * supervisor's start of it): never an installing shell's, whose user tool directories
 * would own root.
 */
export const ROOT_TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** The longest VM id we ever generate (8 hex characters); used to size-check per-VM sockets. */
export const LONGEST_VM_ID = 'ffffffff';

export interface Layout {
  mode: Mode;
  configDir: string;
  configFile: string;
  stateDir: string;
  cacheDir: string;
  runtimeDir: string;
  /** Root helper's runtime dir (system mode: root-owned 0711). */
  rootHelperRuntimeDir: string;
  /**
   * Where root does its own work (image builds, jails): root-owned, beside the owner's state
   * dir rather than inside it, so the owner can neither rename it nor anything on its path.
   */
  rootStateDir: string;
  /** Root's own cache (update staging), root-owned 0700, beside the owner's cache dir. */
  rootCacheDir: string;
  installToml: string;
  dbFile: string;
  imagesDir: string;
  /** Warm templates (docs/howto/snapshots.md): one directory per template key. */
  templatesDir: string;
  kernelsDir: string;
  vmsDir: string;
  sshDir: string;
  sshKey: string;
  /** banger's own ssh config (Host *.vm), included from ~/.ssh/config by `ssh-config --install`. */
  sshConfigFile: string;
  knownHosts: string;
  logsDir: string;
  daemonLog: string;
  ociBlobsDir: string;
  daemonSocket: string;
  daemonPidFile: string;
  rootHelperSocket: string;
}

export interface VmFiles {
  dir: string;
  handles: string;
  /** The qcow2 overlay (rootOverlay "qcow2"). */
  rootfsOverlay: string;
  /** The sparse copy (rootOverlay "copy"). */
  rootfsCopy: string;
  /** The device-mapper snapshot's copy-on-write store (rootOverlay "dm-snapshot"). */
  rootfsCow: string;
  workDisk: string;
  consoleLog: string;
  vmmLog: string;
  /** Sockets live in the runtime dir so their paths stay short. */
  runtimeDir: string;
  pidFile: string;
  qmpSocket: string;
  agentSocket: string;
  firecrackerApiSocket: string;
  vsockSocket: string;
  /** The shape of the guest its VMM runs now (snapshots/shape.ts), written at every start and restore. */
  shape: string;
  /** `vm stop --save`'s memory and device state (docs/howto/snapshots.md). */
  savedState: string;
  /** A warm VM's ssh host key pair, kept until the agent has put it into the restored guest. */
  pendingIdentity: string;
  /**
   * A warm VM's hard link to its template's frozen root disk, which its qcow2 layer backs
   * onto: the template can then be removed or rebuilt whatever VMs were made from it.
   */
  frozenRoot: string;
}

export const SYSTEM_INSTALL_TOML = '/etc/banger/install.toml';

export interface UserLayoutInput {
  home: string;
  uid: number;
  env: NodeJS.ProcessEnv;
}

function xdg(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const v = env[name];
  // XDG says relative values are invalid and must be ignored.
  return v && v.startsWith('/') ? v : fallback;
}

export function userLayout({ home, uid, env }: UserLayoutInput): Layout {
  const configDir = join(xdg(env, 'XDG_CONFIG_HOME', join(home, '.config')), 'banger');
  const stateDir = join(xdg(env, 'XDG_STATE_HOME', join(home, '.local', 'state')), 'banger');
  const cacheDir = join(xdg(env, 'XDG_CACHE_HOME', join(home, '.cache')), 'banger');
  const runtimeBase =
    env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.startsWith('/')
      ? join(env.XDG_RUNTIME_DIR, 'banger')
      : `/tmp/banger-runtime-${uid}`;
  // User mode has no boundary (a root daemon is its own owner): root's areas sit inside the owner's.
  return assemble('user', {
    configDir,
    stateDir,
    cacheDir,
    runtimeDir: runtimeBase,
    rootHelperRuntimeDir: runtimeBase,
    rootStateDir: join(stateDir, 'root'),
    rootCacheDir: join(cacheDir, 'root'),
  });
}

export function systemLayout(): Layout {
  return assemble('system', {
    configDir: '/etc/banger',
    stateDir: '/var/lib/banger',
    cacheDir: '/var/cache/banger',
    runtimeDir: '/run/banger',
    rootHelperRuntimeDir: '/run/banger-root',
    rootStateDir: '/var/lib/banger-root',
    rootCacheDir: '/var/cache/banger-root',
  });
}

type Roots = Pick<
  Layout,
  'configDir' | 'stateDir' | 'cacheDir' | 'runtimeDir' | 'rootHelperRuntimeDir' | 'rootStateDir' | 'rootCacheDir'
>;

function assemble(mode: Mode, r: Roots): Layout {
  const logsDir = join(r.stateDir, 'logs');
  return {
    mode,
    ...r,
    configFile: join(r.configDir, 'config.toml'),
    installToml: SYSTEM_INSTALL_TOML,
    dbFile: join(r.stateDir, 'state.db'),
    imagesDir: join(r.stateDir, 'images'),
    templatesDir: join(r.stateDir, 'templates'),
    kernelsDir: join(r.stateDir, 'kernels'),
    vmsDir: join(r.stateDir, 'vms'),
    sshDir: join(r.stateDir, 'ssh'),
    sshKey: join(r.stateDir, 'ssh', 'id_ed25519'),
    sshConfigFile: join(r.stateDir, 'ssh', 'config'),
    knownHosts: join(r.stateDir, 'known_hosts'),
    logsDir,
    daemonLog: join(logsDir, 'bangerd.log'),
    ociBlobsDir: join(r.cacheDir, 'oci', 'blobs', 'sha256'),
    daemonSocket: join(r.runtimeDir, 'bangerd.sock'),
    daemonPidFile: join(r.runtimeDir, 'bangerd.pid'),
    rootHelperSocket: join(r.rootHelperRuntimeDir, 'bangerd-root.sock'),
  };
}

/**
 * A VM's files root works on, relative to the owner's state directory (the root helper
 * resolves them under its descriptor of that directory; vmFiles uses the same names).
 */
export function vmStateRelative(vmId: string): { dir: string; consoleLog: string; rootfsCow: string } {
  const dir = join('vms', vmId);
  return { dir, consoleLog: join(dir, 'console.log'), rootfsCow: join(dir, 'rootfs.cow') };
}

export function vmFiles(layout: Layout, vmId: string): VmFiles {
  const rel = vmStateRelative(vmId);
  const dir = join(layout.stateDir, rel.dir);
  const runtimeDir = join(layout.runtimeDir, 'vms', vmId);
  return {
    dir,
    handles: join(dir, 'handles.json'),
    rootfsOverlay: join(dir, 'rootfs.qcow2'),
    rootfsCopy: join(dir, 'rootfs.raw'),
    rootfsCow: join(layout.stateDir, rel.rootfsCow),
    workDisk: join(dir, 'work.ext4'),
    consoleLog: join(layout.stateDir, rel.consoleLog),
    vmmLog: join(dir, 'vmm.log'),
    runtimeDir,
    pidFile: join(runtimeDir, 'vmm.pid'),
    qmpSocket: join(runtimeDir, 'qmp.sock'),
    agentSocket: join(runtimeDir, 'agent.sock'),
    firecrackerApiSocket: join(runtimeDir, 'fc.sock'),
    vsockSocket: join(runtimeDir, 'vsock.sock'),
    shape: join(dir, 'vmm-shape.json'),
    savedState: join(dir, 'saved'),
    pendingIdentity: join(dir, 'pending-identity'),
    frozenRoot: join(dir, 'template-root.qcow2'),
  };
}

/** Every unix socket path a layout can produce, with the longest VM id. */
export function allSocketPaths(layout: Layout): string[] {
  const vm = vmFiles(layout, LONGEST_VM_ID);
  return [
    layout.daemonSocket,
    layout.rootHelperSocket,
    vm.qmpSocket,
    vm.agentSocket,
    vm.firecrackerApiSocket,
    vm.vsockSocket,
  ];
}

/** Socket paths of this layout that would not fit in sun_path. */
export function overlongSocketPaths(layout: Layout): string[] {
  return allSocketPaths(layout).filter((p) => Buffer.byteLength(p) > MAX_SOCKET_PATH_BYTES);
}

/** Marker lines around banger's Include in ~/.ssh/config (written by `ssh-config --install`). */
export const SSH_CONFIG_BEGIN_MARKER =
  '# >>> banger ssh-config (managed by banger; remove with `banger ssh-config --uninstall`) >>>';
export const SSH_CONFIG_END_MARKER = '# <<< banger ssh-config <<<';

/** Where the QEMU accelerator boot-probe verdict is remembered per host. */
export function accelProbeFile(layout: Layout): string {
  return join(layout.stateDir, 'accel-probe.json');
}
