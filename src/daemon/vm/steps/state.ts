import type { Image, Kernel, Vm } from '../../../model/index.js';
import type { VmFiles } from '../../../paths/index.js';
import type { GuestShape, Template } from '../../../snapshots/index.js';
import type { StartedVmm, VmmDriver } from '../../../vmm/index.js';
import type { VmEnv } from '../env.js';
import type { Step } from './step.js';

/** What a start knows before its first step; the steps fill in the rest. */
export interface StartState {
  readonly env: VmEnv;
  readonly vm: Vm;
  readonly image: Image;
  readonly kernel: Kernel;
  readonly files: VmFiles;
  readonly driver: VmmDriver;
  /**
   * Whether readiness includes sshd: the caller wants ssh (not only the agent) and the
   * image has sshd. An image pulled with --install-sshd gets it from sshdEnsure instead.
   */
  readonly waitForSsh: boolean;
  /** The caller wants ssh ready, whatever the image has (sshdEnsure waits for it after installing). */
  readonly wantSsh: boolean;
  /**
   * A warm start (docs/howto/snapshots.md): the saved state to restore instead of booting,
   * the shape it was saved from, and whether the guest becomes a new machine (a template's
   * clone, a fork: new hostname, address, MAC, machine-id, host key) or stays itself (a
   * `vm stop --save` resumed: its clock and random pool are renewed).
   */
  readonly restore?: { stateDir: string; shape: GuestShape; identity: 'new' | 'same' };
  /** networkUp: the VM's tap, and whether it came warm from the pool. */
  tap?: { name: string; pooled: boolean };
  /** rootDiskAttach: what the VMM opens as its root disk. */
  rootDisk?: { path: string; format: 'qcow2' | 'raw' };
  /** vmmRestore: the restored guest's NIC was unplugged until guestIdentity has run. */
  linkDown?: boolean;
  /** vmmRestore began: a failure from here on is the restore's (before it, the saved state is untouched). */
  restoreTried?: boolean;
  /** vmmBoot: the running VMM. */
  vmm?: StartedVmm;
}

export type StartStep = Step<StartState>;

/** What a create knows before its first step: the record to insert and where its files go. */
export interface CreateState {
  readonly env: VmEnv;
  readonly record: Vm;
  readonly files: VmFiles;
  readonly image: Image;
  /** A warm create: the template whose frozen disks the VM's own sit on. */
  readonly template?: Template;
  /**
   * The VM's first start is a restore (a template's clone, a fork): its disks are in use in
   * saved memory, so the ssh keys are left for the agent to install (sshKeysInstall).
   */
  readonly keysByAgent?: boolean;
}

export type CreateStep = Step<CreateState>;
