import type { AgentListener } from '../../agent/index.js';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import type { CreateParams, Vm, VmmKind } from '../../model/index.js';
import type { Layout } from '../../paths/index.js';
import type { PrivilegedOps } from '../../privops/index.js';
import type { Store } from '../../store/index.js';
import type { HostRunner } from '../../system/index.js';
import type { VmmDriver } from '../../vmm/index.js';
import type { ImageService } from '../imageService.js';
import type { HostPreflight } from '../preflight.js';
import type { NatController } from '../natController.js';
import type { TapPool } from '../tapPool.js';
import type { WorkspaceService } from '../workspaceService.js';

/** What a running VM's VMM left behind; mirrored into the store so cleanup survives a lost file. */
export interface VmHandles {
  pid: number;
  tap: string;
  vmm: string;
  startedAt: string;
}

export type { CreateParams };

export interface HostVmmFacts {
  firecrackerBin: string | null;
  kvm: { usable: boolean; reason: string };
  deviceMapper: boolean;
}

export interface VmServiceDeps {
  store: Store;
  layout: Layout;
  config: Config;
  runner: HostRunner;
  privileged: PrivilegedOps;
  /** Every back-end; each VM uses the one its record names. */
  drivers: Record<VmmKind, VmmDriver>;
  /** What the host offers, read when a VM is created (selection of back-end and root disk). */
  hostFacts: () => HostVmmFacts;
  /** Checks the host pieces a create uses before anything is downloaded or made (none checked when absent). */
  preflight?: HostPreflight | undefined;
  images: ImageService;
  nat: NatController;
  taps: TapPool;
  workspaces: WorkspaceService;
  log: Logger;
  /** Called once the bridge exists (the DNS server then listens on the bridge address). */
  onBridgeReady?: () => Promise<void>;
  /** Port forwards follow the VM (daemon/forwardService.ts); absent, a VM has none. */
  forwards?: VmForwardHooks;
}

/** What a VM's start and release tell its port forwards. Neither throws: a forward that cannot open is shown failed. */
export interface VmForwardHooks {
  /** The VM is ready: its forwards listen. */
  vmUp(vm: Vm): Promise<void>;
  /** The VM's VMM is being released (stop, kill, delete, reconcile): its forwards close. */
  vmDown(vm: Pick<Vm, 'id'>): Promise<void>;
}

/** One listener of `vm ports`, with the address a user would open. */
export interface VmPort extends AgentListener {
  vm: string;
  /** name.vm:port, or null for a listener on guest loopback only. */
  endpoint: string | null;
  url: string | null;
}
