/**
 * Everything doctor needs to know about the host, gathered in one place (gatherFacts.ts)
 * so that the verdicts (checks.ts) are a pure function of it.
 */
export interface ToolFact {
  path: string | null;
  /** First line of its version output, when it ran. */
  version: string | null;
}

export interface HostFacts {
  arch: string;
  kvm: {
    devExists: boolean;
    accessible: boolean;
    /** Loaded kvm-related modules: kvm, kvm_intel, kvm_amd, kvm_pvm. */
    modules: string[];
    /** Verdict remembered from a boot probe (later issues), if any. */
    probe: 'usable' | 'unusable' | null;
  };
  firecracker: ToolFact;
  jailer: { path: string; exists: boolean; enabled: boolean };
  qemu: ToolFact;
  qemuImg: ToolFact;
  /** `registered`: the kernel lists device-mapper in /proc/misc (what the daemon goes by). */
  deviceMapper: { controlExists: boolean; registered: boolean; dmsetupWorks: boolean; dmsetupError: string | null };
  /** The `vmm` setting new VMs are created with. */
  vmm: { setting: 'auto' | 'firecracker' | 'qemu' };
  /** Root's jail directory (<root state dir>/jail): on the state directory's filesystem, since the owner's files are hard-linked in. */
  jail: { base: string; stateDir: string; sameFilesystem: boolean | null };
  vhostVsock: boolean;
  tun: boolean;
  bridge: { name: string; exists: boolean; kernelSupport: boolean };
  nft: ToolFact;
  iptablesNft: ToolFact;
  mkfsExt4: ToolFact;
  debugfs: ToolFact;
  mmdebstrap: ToolFact;
  debootstrap: ToolFact;
  ssh: ToolFact;
  sshKeygen: ToolFact;
  pid1: string;
  resolved: boolean;
  /** The guest agent binary images get (dist/agent/banger-agent) and its --version line. */
  agent: ToolFact;
  /** Where NAT masquerades: nat_uplink from the config, else the default route's device. */
  natUplink: { configured: string | null; detected: string | null };
  daemon: {
    reachable: boolean;
    version: string | null;
    commit: string | null;
    pid: number | null;
    error: string | null;
  };
  cli: { version: string; commit: string };
  install: { version: string | null; commit: string | null } | null;
  store: {
    path: string;
    state: 'missing' | 'compatible' | 'migrations_needed' | 'incompatible' | 'unreadable';
    detail: string;
  };
  config: { path: string; exists: boolean; error: string | null };
  defaultImage: { name: string; present: boolean };
  /** How the default image would be made here (config default_image_source; src/imagecat/buildPath.ts). */
  defaultImageBuild: { source: 'auto' | 'mmdebstrap' | 'oci'; ociBase: string; canRunAsRoot: boolean };
  defaultKernel: { name: string | null; present: boolean; localKernels: number };
  /** Warm starts (docs/howto/snapshots.md): the config switch and the templates on disk. */
  warmStart: { enabled: boolean; templates: number; bytes: number; dir: string };
  vmDefaults: Array<{ field: string; shown: string; source: string; reason: string }>;
  sshConfig: { path: string; hasInclude: boolean };
  disk: { path: string; freeBytes: number | null };
  /** The pieces of hostPieces.ts's table this host lacks, by name. */
  missingPieces: string[];
}
