import { TemplateStore } from '../snapshots/index.js';
import { accessSync, constants, existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { agentBinaryPath, type BuildInfo } from '../buildinfo/index.js';
import type { Config } from '../config/index.js';
import { uplinkFromRoutes } from '../hostnat/index.js';
import { formatSize, resolveVmDefaults } from '../model/index.js';
import { accelProbeFile, SSH_CONFIG_BEGIN_MARKER, type Layout } from '../paths/index.js';
import { migrationStatus, openDatabaseReadOnly, type Db } from '../store/index.js';
import { resolvedPresent } from '../vmdns/index.js';
import { deviceMapperAvailable } from '../roothelper/index.js';
import { which, type HostRunner } from '../system/index.js';
import type { HostFacts, ToolFact } from './facts.js';
import { HOST_PIECES, probeHostPieces } from './hostPieces.js';

export interface GatherDeps {
  runner: HostRunner;
  layout: Layout;
  /** The loaded config, or the error that loading it raised (doctor reports it). */
  config: Config;
  configError: string | null;
  cli: BuildInfo;
  home: string;
  /** Asks the daemon who it is without starting it. */
  pingDaemon: () => Promise<{ version: string; commit: string; pid: number }>;
}

async function tool(
  runner: HostRunner,
  name: string,
  versionArgs: string[] | null,
  configured?: string | null,
): Promise<ToolFact> {
  const path = configured ? (existsSync(configured) ? configured : null) : which(name);
  if (!path || !versionArgs) return { path, version: null };
  try {
    const r = await runner.run([path, ...versionArgs], { timeoutMs: 5000, allowFailure: true });
    const first =
      `${r.stdout}\n${r.stderr}`
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l.length > 0) ?? null;
    return { path, version: first };
  } catch {
    return { path, version: null };
  }
}

const mod = (name: string) => existsSync(`/sys/module/${name}`);

function readProbe(layout: Layout): 'usable' | 'unusable' | null {
  try {
    const v = (JSON.parse(readFileSync(accelProbeFile(layout), 'utf8')) as { kvm?: string }).kvm;
    return v === 'usable' || v === 'unusable' ? v : null;
  } catch {
    return null;
  }
}

function jailFacts(base: string, stateDir: string): HostFacts['jail'] {
  let sameFilesystem: boolean | null = null;
  try {
    sameFilesystem = statSync(nearestExisting(base)).dev === statSync(nearestExisting(stateDir)).dev;
  } catch {
    /* unknown */
  }
  return { base, stateDir, sameFilesystem };
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && p !== dirname(p)) p = dirname(p);
  return p;
}

function readStore(layout: Layout, config: Config): Pick<HostFacts, 'store' | 'defaultImage' | 'defaultKernel'> {
  const defaultImage = { name: config.default_image_name, present: false };
  const defaultKernel = { name: config.default_kernel_name, present: false, localKernels: 0 };
  if (!existsSync(layout.dbFile))
    return { store: { path: layout.dbFile, state: 'missing', detail: '' }, defaultImage, defaultKernel };
  let db: Db | undefined;
  try {
    db = openDatabaseReadOnly(layout.dbFile);
    const st = migrationStatus(db);
    const store: HostFacts['store'] =
      st.kind === 'compatible'
        ? { path: layout.dbFile, state: 'compatible', detail: `${st.applied} migrations` }
        : st.kind === 'migrations_needed'
          ? {
              path: layout.dbFile,
              state: 'migrations_needed',
              detail: st.pending.map((m) => `${m.id}_${m.name}`).join(', '),
            }
          : {
              path: layout.dbFile,
              state: 'incompatible',
              detail: `written by a newer banger (${st.unknown.map((u) => u.id).join(', ')})`,
            };
    if (st.kind === 'compatible') {
      defaultImage.present =
        db.prepare('SELECT 1 FROM images WHERE name = ?').get(config.default_image_name) !== undefined;
      defaultKernel.localKernels = (db.prepare('SELECT count(*) AS n FROM kernels').get() as { n: number }).n;
      defaultKernel.present = config.default_kernel_name
        ? db.prepare('SELECT 1 FROM kernels WHERE name = ?').get(config.default_kernel_name) !== undefined
        : defaultKernel.localKernels > 0;
    }
    return { store, defaultImage, defaultKernel };
  } catch (e) {
    return {
      store: { path: layout.dbFile, state: 'unreadable', detail: (e as Error).message },
      defaultImage,
      defaultKernel,
    };
  } finally {
    db?.close();
  }
}

function readInstall(path: string): HostFacts['install'] {
  try {
    const t = parseToml(readFileSync(path, 'utf8')) as { version?: string; commit?: string };
    return { version: t.version ?? null, commit: t.commit ?? null };
  } catch {
    return null;
  }
}

/** A tool: its name on PATH, its version flags (null: presence only) and a configured path, if any. */
type ToolSpec = [name: string, versionArgs: string[] | null, configured?: string | null];

/** The tools doctor looks for, each with the first line of its version output. */
async function gatherTools(runner: HostRunner, config: Config) {
  const specs = {
    firecracker: ['firecracker', ['--version'], config.firecracker_bin],
    qemu: ['qemu-system-x86_64', ['--version'], config.qemu_bin],
    qemuImg: ['qemu-img', ['--version']],
    nft: ['nft', ['--version']],
    iptablesNft: ['iptables-nft', ['--version']],
    mkfsExt4: ['mkfs.ext4', ['-V']],
    debugfs: ['debugfs', ['-V']],
    mmdebstrap: ['mmdebstrap', ['--version']],
    debootstrap: ['debootstrap', ['--version']],
    ssh: ['ssh', ['-V']],
    sshKeygen: ['ssh-keygen', null],
    agent: ['banger-agent', ['--version'], agentBinaryPath()],
  } satisfies Record<string, ToolSpec>;
  const names = Object.keys(specs) as Array<keyof typeof specs>;
  const found = await Promise.all(names.map((n) => tool(runner, ...(specs[n] as ToolSpec))));
  return Object.fromEntries(names.map((n, i) => [n, found[i]!])) as Record<keyof typeof specs, ToolFact>;
}

/** Whether `dmsetup version` works, and why not. */
async function dmsetupFacts(runner: HostRunner): Promise<{ works: boolean; error: string | null }> {
  const path = which('dmsetup');
  if (!path) return { works: false, error: 'dmsetup not installed' };
  try {
    const r = await runner.run([path, 'version'], { timeoutMs: 5000, allowFailure: true });
    return r.exitCode === 0
      ? { works: true, error: null }
      : { works: false, error: dmsetupReason(r.stderr) ?? `dmsetup exit ${r.exitCode}` };
  } catch (e) {
    return { works: false, error: (e as Error).message };
  }
}

function daemonFacts(ping: GatherDeps['pingDaemon']): Promise<HostFacts['daemon']> {
  return ping().then(
    (p) => ({ reachable: true, version: p.version, commit: p.commit, pid: p.pid, error: null }),
    (e: Error) => ({
      reachable: false,
      version: null,
      commit: null,
      pid: null,
      error: /no socket/.test(e.message) ? null : e.message,
    }),
  );
}

/** The default route's device, which NAT masquerades out of unless nat_uplink is set. */
function defaultRouteDevice(runner: HostRunner): Promise<string | null> {
  return runner.run(['ip', '-j', 'route', 'show', 'default'], { timeoutMs: 5000, allowFailure: true }).then(
    (r) => (r.exitCode === 0 ? uplinkFromRoutes(r.stdout) : null),
    () => null,
  );
}

/** What can be read from files at once: /dev/kvm access, PID 1, the user's ssh config, free disk. */
function localFacts(d: GatherDeps) {
  let kvmAccessible = false;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    kvmAccessible = true;
  } catch {
    /* not accessible */
  }
  let pid1 = 'unknown';
  try {
    pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
  } catch {
    /* hidden /proc */
  }
  const sshConfigPath = join(d.home, '.ssh', 'config');
  let hasInclude = false;
  try {
    hasInclude = readFileSync(sshConfigPath, 'utf8').includes(SSH_CONFIG_BEGIN_MARKER);
  } catch {
    /* no file */
  }
  const diskPath = nearestExisting(d.layout.stateDir);
  let freeBytes: number | null = null;
  try {
    const s = statfsSync(diskPath);
    freeBytes = s.bavail * s.bsize;
  } catch {
    /* unknown */
  }
  return { kvmAccessible, pid1, sshConfig: { path: sshConfigPath, hasInclude }, disk: { path: diskPath, freeBytes } };
}

/** The VM defaults new VMs get on this host, and where each comes from. */
function vmDefaultFacts(config: Config): HostFacts['vmDefaults'] {
  const r = resolveVmDefaults(config.vm_defaults, { cpus: availableParallelism(), memoryBytes: totalmem() });
  return [
    { field: 'vcpu', shown: `${r.vcpu.value} vcpu`, source: r.vcpu.source, reason: r.vcpu.reason },
    { field: 'memory', shown: `${r.memoryMib.value} MiB`, source: r.memoryMib.source, reason: r.memoryMib.reason },
    {
      field: 'disk_size',
      shown: formatSize(r.diskSizeBytes.value),
      source: r.diskSizeBytes.source,
      reason: r.diskSizeBytes.reason,
    },
    {
      field: 'system_overlay_size',
      shown: formatSize(r.systemOverlaySizeBytes.value),
      source: r.systemOverlaySizeBytes.source,
      reason: r.systemOverlaySizeBytes.reason,
    },
  ];
}

/** Gathers every fact doctor judges. Read-only: it never changes the host or the store. */
export async function gatherFacts(d: GatherDeps): Promise<HostFacts> {
  const { runner, layout, config } = d;
  const [tools, dmsetup, daemon, routes] = await Promise.all([
    gatherTools(runner, config),
    dmsetupFacts(runner),
    daemonFacts(d.pingDaemon),
    defaultRouteDevice(runner),
  ]);
  const local = localFacts(d);
  const vmDefaults = vmDefaultFacts(config);
  return {
    ...tools,
    arch: process.arch,
    kvm: {
      devExists: existsSync('/dev/kvm'),
      accessible: local.kvmAccessible,
      modules: ['kvm', 'kvm_intel', 'kvm_amd', 'kvm_pvm'].filter(mod),
      probe: readProbe(layout),
    },
    jailer: { path: config.jailer_bin, exists: existsSync(config.jailer_bin), enabled: config.jailer_enabled },
    deviceMapper: {
      controlExists: existsSync('/dev/mapper/control'),
      registered: deviceMapperAvailable(),
      dmsetupWorks: dmsetup.works,
      dmsetupError: dmsetup.error,
    },
    vmm: { setting: config.vmm },
    jail: jailFacts(join(layout.rootStateDir, 'jail'), layout.stateDir),
    vhostVsock: existsSync('/dev/vhost-vsock'),
    tun: existsSync('/dev/net/tun'),
    bridge: {
      name: config.bridge_name,
      exists: existsSync(`/sys/class/net/${config.bridge_name}`),
      kernelSupport: mod('bridge') || (await modinfo(runner, 'bridge')),
    },
    pid1: local.pid1,
    resolved: resolvedPresent(),
    natUplink: { configured: config.nat_uplink, detected: routes },
    daemon,
    cli: { version: d.cli.version, commit: d.cli.commit },
    install: existsSync(layout.installToml) ? readInstall(layout.installToml) : null,
    ...readStore(layout, config),
    defaultImageBuild: {
      source: config.default_image_source,
      ociBase: config.default_image_oci_base,
      canRunAsRoot: process.getuid?.() === 0 || layout.mode === 'system',
    },
    config: { path: config.source.path, exists: config.source.exists, error: d.configError },
    warmStart: warmStartFacts(layout.templatesDir, config.warm_start),
    vmDefaults,
    sshConfig: local.sshConfig,
    disk: local.disk,
    missingPieces: missingHostPieces(config),
  };
}

/** The warm templates on disk (none when the directory is missing or unreadable). */
function warmStartFacts(dir: string, enabled: boolean): HostFacts['warmStart'] {
  try {
    const templates = new TemplateStore(dir).list();
    return { enabled, templates: templates.length, bytes: templates.reduce((n, t) => n + t.meta.sizeBytes, 0), dir };
  } catch {
    return { enabled, templates: 0, bytes: 0, dir };
  }
}

/** The pieces of the one table (hostPieces.ts) this host lacks. */
function missingHostPieces(config: Config): string[] {
  const present = probeHostPieces(HOST_PIECES, process.env.PATH ?? '', { 'qemu-system-x86_64': config.qemu_bin });
  return HOST_PIECES.filter((p) => !present.has(p.name)).map((p) => p.name);
}

async function modinfo(runner: HostRunner, name: string): Promise<boolean> {
  const path = which('modinfo');
  if (!path) return false;
  try {
    return (await runner.run([path, name], { timeoutMs: 5000, allowFailure: true })).exitCode === 0;
  } catch {
    return false;
  }
}

/** The explanatory line of a failed `dmsetup version` (its last line is just "Command failed."). */
export function dmsetupReason(stderr: string): string | null {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'Command failed.');
  return lines.find((l) => /No entry|missing|Failure|denied/i.test(l)) ?? lines[0] ?? null;
}
