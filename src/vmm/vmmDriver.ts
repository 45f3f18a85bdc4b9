import type { AgentEndpoint } from '../agent/index.js';
import type { VmmKind } from '../model/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { VmFiles } from '../paths/index.js';

/**
 * The one interface every VM back-end implements (Lima's model: one driver interface
 * for every VMM). The daemon decides *what* to boot; a driver decides *how*.
 */
export interface GuestNetwork {
  tap: string;
  mac: string;
  /**
   * e.g. 172.16.0.2/24. null: the guest's interface gets no address at boot (a warm
   * template, whose clones are each given their own by the agent after the restore).
   */
  addressCidr: string | null;
  gateway: string;
  dns: string;
}

export interface BootSpec {
  vmId: string;
  hostname: string;
  vcpu: number;
  memoryMib: number;
  kernelPath: string;
  initrdPath: string | null;
  rootDisk: { path: string; format: 'qcow2' | 'raw' };
  workDisk: string;
  network: GuestNetwork;
  files: VmFiles;
}

export interface StartedVmm {
  pid: number;
  /** How the driver ran it, for `vm show` (e.g. "qemu tcg"). */
  detail: string;
}

/** Every call carries the daemon operation it belongs to (privileged steps are logged with it). */
export interface VmmDriver {
  readonly kind: VmmKind;
  /**
   * Starts the VMM outside the daemon's process tree (its own session, or re-parented by
   * the jailer) and returns once it runs, not once the guest is ready. Restarting the
   * daemon never reaches it.
   */
  start(spec: BootSpec, ctx: OpCtx): Promise<StartedVmm>;
  /** Removes what a stopped VMM leaves besides the VM's own files (a jail). Nothing there is fine. */
  release(files: VmFiles, ctx: OpCtx): Promise<void>;
  /** True if `pid` is alive and is this VM's VMM (command line check), so a recycled pid is never adopted. */
  owns(pid: number, files: VmFiles): boolean;
  /** The VMM's own view of the guest (e.g. QMP query-status: "running", "paused", "shutdown"). */
  status(pid: number, files: VmFiles): Promise<string>;
  /** Where the host reaches this VM's guest agent. */
  agentEndpoint(files: VmFiles): AgentEndpoint;
  /**
   * Asks the guest to power off through the VMM itself, for when neither the agent nor ssh
   * answers. False when this back-end offers no such request.
   */
  requestPowerOff(pid: number, files: VmFiles): Promise<boolean>;
  /** Stops the guest's vCPUs (QMP `stop`, Firecracker `PATCH /vm Paused`); memory and devices stay as they are. */
  pause(pid: number, files: VmFiles, ctx: OpCtx): Promise<void>;
  /** Runs a paused guest again (QMP `cont`, Firecracker `PATCH /vm Resumed`). */
  resume(pid: number, files: VmFiles, ctx: OpCtx): Promise<void>;
  /**
   * With the guest paused: writes its memory and device state into `stateDir` (which exists
   * and is empty; the driver names the files in it) and leaves the guest paused. The disks
   * are not copied: the caller freezes or copies them while the guest stays paused.
   */
  saveState(pid: number, files: VmFiles, stateDir: string, ctx: OpCtx): Promise<void>;
  /**
   * Starts a VMM that loads the state `saveState` wrote into `stateDir` instead of booting
   * `spec`'s kernel, and returns once the guest is loaded and paused (the caller resumes it).
   * `spec` must describe the same devices as the saved guest (vcpus, memory, the two disks,
   * one NIC); its disk paths, tap and sockets are the new VM's own. The guest keeps the saved
   * MAC on its NIC: the agent gives it its own after the resume.
   */
  restore(spec: BootSpec, stateDir: string, ctx: OpCtx): Promise<StartedVmm>;
  /**
   * Connects (`up`) or disconnects the guest's NIC from its tap without the guest's say (QMP
   * `set_link`), so a fork cannot put its source's address on the wire before the agent has
   * given it its own. False when the back-end offers no such switch (Firecracker).
   */
  setLink(pid: number, files: VmFiles, up: boolean): Promise<boolean>;
  /** Stops the VMM immediately (no guest shutdown) and waits for it to exit; `ctx` is the operation (privileged steps are logged with it). */
  hardStop(pid: number, files: VmFiles, ctx: OpCtx): Promise<void>;
}
