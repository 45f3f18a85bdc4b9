/**
 * Resolution of VM resource defaults (docs/reference/config.md, [vm_defaults]): a value set in config wins;
 * else a host heuristic where one exists and yields a usable value; else the built-in.
 * Each resolved value remembers where it came from so `doctor` can show it.
 */
import {
  DISK_SIZE_LIMIT,
  limitProblem,
  MEMORY_MIB_LIMIT,
  memoryOverHost,
  SYSTEM_OVERLAY_LIMIT,
  VCPU_LIMIT,
} from './limits.js';
import { GIB, MIB } from './size.js';
import type { VmSpec } from './vm.js';

export type DefaultSource = 'config' | 'host' | 'built-in';

export interface Resolved<T> {
  value: T;
  source: DefaultSource;
  /** Why this value: e.g. "host has 8 CPUs: cpus/4 capped at 4". */
  reason: string;
}

export type ResolvedVmDefaults = { [K in keyof VmSpec]: Resolved<VmSpec[K]> };

/** Built-ins of docs/reference/config.md: 2 vcpu, 2048 MiB, 8G work disk, 8G system overlay. */
export const BUILTIN_VM_DEFAULTS: VmSpec = {
  vcpu: 2,
  memoryMib: 2048,
  diskSizeBytes: 8 * GIB,
  systemOverlaySizeBytes: 8 * GIB,
};

export interface HostResources {
  cpus: number;
  memoryBytes: number;
}

export type ConfiguredVmDefaults = Partial<VmSpec>;

/** Heuristic: a quarter of the host's CPUs, capped at 4; none on hosts with fewer than 4. */
export function vcpuHeuristic(host: HostResources): number | null {
  const v = Math.min(4, Math.floor(host.cpus / 4));
  return v >= 1 ? v : null;
}

/** Heuristic: an eighth of host RAM rounded down to 256 MiB, capped at 8 GiB; none below 512 MiB. */
export function memoryHeuristicMib(host: HostResources): number | null {
  const eighth = Math.floor(host.memoryBytes / 8 / MIB / 256) * 256;
  const v = Math.min(8192, eighth);
  return v >= 512 ? v : null;
}

export function resolveVmDefaults(configured: ConfiguredVmDefaults, host: HostResources): ResolvedVmDefaults {
  const fromConfig = <T>(v: T): Resolved<T> => ({ value: v, source: 'config', reason: 'set in config [vm_defaults]' });
  const builtIn = <T>(v: T, why: string): Resolved<T> => ({ value: v, source: 'built-in', reason: why });

  let vcpu: Resolved<number>;
  if (configured.vcpu !== undefined) vcpu = fromConfig(configured.vcpu);
  else {
    const h = vcpuHeuristic(host);
    vcpu =
      h !== null
        ? { value: h, source: 'host', reason: `host has ${host.cpus} CPUs: cpus/4 capped at 4` }
        : builtIn(BUILTIN_VM_DEFAULTS.vcpu, `host has ${host.cpus} CPUs, too few for the cpus/4 heuristic`);
  }

  let memoryMib: Resolved<number>;
  if (configured.memoryMib !== undefined) memoryMib = fromConfig(configured.memoryMib);
  else {
    const h = memoryHeuristicMib(host);
    memoryMib =
      h !== null
        ? {
            value: h,
            source: 'host',
            reason: `host has ${Math.round(host.memoryBytes / GIB)} GiB RAM: RAM/8 capped at 8 GiB`,
          }
        : builtIn(BUILTIN_VM_DEFAULTS.memoryMib, 'host RAM too small for the RAM/8 heuristic');
  }

  return {
    vcpu,
    memoryMib,
    diskSizeBytes:
      configured.diskSizeBytes !== undefined
        ? fromConfig(configured.diskSizeBytes)
        : builtIn(BUILTIN_VM_DEFAULTS.diskSizeBytes, 'built-in default'),
    systemOverlaySizeBytes:
      configured.systemOverlaySizeBytes !== undefined
        ? fromConfig(configured.systemOverlaySizeBytes)
        : builtIn(BUILTIN_VM_DEFAULTS.systemOverlaySizeBytes, 'built-in default'),
  };
}

export function specOf(resolved: ResolvedVmDefaults): VmSpec {
  return {
    vcpu: resolved.vcpu.value,
    memoryMib: resolved.memoryMib.value,
    diskSizeBytes: resolved.diskSizeBytes.value,
    systemOverlaySizeBytes: resolved.systemOverlaySizeBytes.value,
  };
}

/**
 * Limits a spec must respect (model/limits.ts); returns a sentence naming the offending field
 * and its bounds, or null. With the host's RAM, memory beyond it is refused too.
 */
export function vmSpecProblem(spec: VmSpec, host?: Pick<HostResources, 'memoryBytes'>): string | null {
  return (
    limitProblem(VCPU_LIMIT, spec.vcpu) ??
    limitProblem(MEMORY_MIB_LIMIT, spec.memoryMib, `${spec.memoryMib} MiB`) ??
    limitProblem(DISK_SIZE_LIMIT, spec.diskSizeBytes) ??
    limitProblem(SYSTEM_OVERLAY_LIMIT, spec.systemOverlaySizeBytes) ??
    (host ? memoryOverHost(spec.memoryMib, host.memoryBytes) : null)
  );
}
