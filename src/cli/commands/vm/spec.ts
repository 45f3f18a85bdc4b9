/** The VM spec options (--name, --image, --vcpu, …) of `vm run`, `vm create` and `vm set`. */
import type { Command } from 'commander';
import {
  DISK_SIZE_LIMIT,
  limitProblem,
  MEMORY_MIB_LIMIT,
  MIB,
  parseSize,
  SizeParseError,
  VCPU_LIMIT,
  type Limit,
} from '../../../model/index.js';
import { usageError } from '../../errors.js';

export interface SpecOptions {
  name?: string;
  image?: string;
  vcpu?: string;
  memory?: string;
  diskSize?: string;
  nat?: boolean;
  vmm?: string;
  /** `--cold` (run and create): boot from scratch even when a warm template matches. */
  cold?: boolean;
}

const VMM_CHOICES = ['auto', 'firecracker', 'qemu'] as const;

export interface SpecParams {
  name?: string;
  image?: string;
  vcpu?: number;
  memoryMib?: number;
  diskSizeBytes?: number;
  nat?: boolean;
  vmm?: (typeof VMM_CHOICES)[number];
  cold?: boolean;
}

/** Turns --vcpu/--memory/--disk-size into vm.create params; bad values are usage errors. */
export function specParams(o: SpecOptions): SpecParams {
  const out: SpecParams = {};
  if (o.nat !== undefined) out.nat = o.nat;
  if (o.cold) out.cold = true;
  if (o.vmm !== undefined) {
    const vmm = VMM_CHOICES.find((c) => c === o.vmm);
    if (!vmm) throw usageError(`--vmm ${o.vmm} is not a back-end`, `use one of ${VMM_CHOICES.join(', ')}`);
    out.vmm = vmm;
  }
  if (o.name !== undefined) out.name = o.name;
  if (o.image !== undefined) out.image = o.image;
  if (o.vcpu !== undefined)
    out.vcpu = checked('--vcpu', VCPU_LIMIT, /^\s*\d+\s*$/.test(o.vcpu) ? Number(o.vcpu) : NaN, o.vcpu);
  try {
    if (o.memory !== undefined)
      out.memoryMib = checked('--memory', MEMORY_MIB_LIMIT, Math.floor(parseSize(o.memory) / MIB), o.memory);
    if (o.diskSize !== undefined)
      out.diskSizeBytes = checked('--disk-size', DISK_SIZE_LIMIT, parseSize(o.diskSize), o.diskSize);
  } catch (e) {
    if (e instanceof SizeParseError) throw usageError(e.message);
    throw e;
  }
  return out;
}

/** `value` when it is within `limit`; else a usage error naming the flag and the limit. */
function checked(flag: string, limit: Limit, value: number, shown: string): number {
  const problem = limitProblem(limit, value, shown);
  if (problem) throw usageError(`${flag}: ${problem}`, 'the limits are in docs/howto/vms.md');
  return value;
}

export function addSpecOptions(c: Command): Command {
  return c
    .option('--name <name>', 'VM name (a DNS label); generated when omitted')
    .option('--image <image>', 'image name (default: default_image_name from config)')
    .option('--vcpu <n>', 'virtual CPUs')
    .option('--memory <size>', 'memory, e.g. 2048 (MiB) or 4G')
    .option('--disk-size <size>', 'size of the /root work disk, e.g. 8G')
    .option('--nat', 'let the VM reach the outside (masquerade out of the host uplink); off by default')
    .option(
      '--vmm <kind>',
      'back-end: auto (firecracker where it can run, else qemu), firecracker or qemu' + ' (default: vmm from config)',
    )
    .option('--cold', 'boot from scratch even when a warm template (a memory snapshot) matches');
}
