import type { Image, Kernel, Vm } from '../../../model/index.js';
import type { VmFiles } from '../../../paths/index.js';
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
  /** networkUp: the VM's tap, and whether it came warm from the pool. */
  tap?: { name: string; pooled: boolean };
  /** rootDiskAttach: what the VMM opens as its root disk. */
  rootDisk?: { path: string; format: 'qcow2' | 'raw' };
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
}

export type CreateStep = Step<CreateState>;
