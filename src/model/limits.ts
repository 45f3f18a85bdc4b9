/**
 * The bounds of every number a user or a client can hand banger (docs/howto/vms.md "Limits",
 * docs/reference/rpc.md, docs/reference/config.md): one table, used by the RPC params
 * schemas, the config schema, the CLI flags and the daemon's own checks, so a value is
 * refused with the same sentence wherever it comes in. Every bound is a finite integer.
 */
import { z } from 'zod';
import { GIB, MIB, TIB } from './size.js';

export interface Limit {
  /** How the value is named in a refusal: "vcpu", "memory", "disk size". */
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** The unit the value is counted in, shown after the bounds ("MiB", "bytes"); '' for a count. */
  readonly unit: string;
  /** Bounds as a reader wants them, when the raw numbers are unwieldy ("256M to 16T"). */
  readonly shown?: string;
}

/** Memory: 128 MiB up to 1 TiB on the wire; the daemon also refuses more than the host's RAM. */
export const MEMORY_MIB_LIMIT: Limit = { label: 'memory', min: 128, max: 1024 * 1024, unit: 'MiB' };
export const VCPU_LIMIT: Limit = { label: 'vcpu', min: 1, max: 32, unit: '' };
const DISK: Omit<Limit, 'label'> = { min: 256 * MIB, max: 16 * TIB, unit: 'bytes', shown: '256M to 16T' };
export const DISK_SIZE_LIMIT: Limit = { label: 'disk size', ...DISK };
export const SYSTEM_OVERLAY_LIMIT: Limit = { label: 'system overlay size', ...DISK };
/** A byte offset into a log: anything JavaScript counts exactly. */
export const OFFSET_LIMIT: Limit = { label: 'offset', min: 0, max: Number.MAX_SAFE_INTEGER, unit: 'bytes' };
export const PORT_LIMIT: Limit = { label: 'port', min: 1, max: 65535, unit: '' };
/** Durations in config (auto_stop_stale_after, stats_poll_interval): at most a year. */
export const DURATION_MAX_MS = 365 * 24 * 3_600_000;

/** Every documented limit, in the order the docs list them. */
export const LIMITS: Readonly<Record<string, Limit>> = {
  vcpu: VCPU_LIMIT,
  memoryMib: MEMORY_MIB_LIMIT,
  diskSizeBytes: DISK_SIZE_LIMIT,
  systemOverlaySizeBytes: SYSTEM_OVERLAY_LIMIT,
  offset: OFFSET_LIMIT,
  port: PORT_LIMIT,
};

/** "from 1 to 32", "from 128 to 1048576 MiB", "from 256M to 16T". */
export function limitRange(l: Limit): string {
  return `from ${l.shown ?? `${l.min} to ${l.max}${l.unit ? ` ${l.unit}` : ''}`}`;
}

/** The sentence that refuses `value` for `l`, or null when it is a whole number within bounds. */
export function limitProblem(l: Limit, value: number, got: string = String(value)): string | null {
  if (Number.isSafeInteger(value) && value >= l.min && value <= l.max) return null;
  return `${l.label} must be a whole number ${limitRange(l)} (got ${got})`;
}

/** A zod integer within `l`, whose refusal names the limit (the RPC server adds the field's path). */
export function boundedInt(l: Limit) {
  const message = `must be a whole number ${limitRange(l)}`;
  return z.number({ error: message }).int({ error: message }).min(l.min, { error: message }).max(l.max, {
    error: message,
  });
}

/** The host's RAM in MiB, rounded down: the most memory a VM is given here. */
export function hostMemoryMib(memoryBytes: number): number {
  return Math.floor(memoryBytes / MIB);
}

/** Memory beyond what the host has, as a refusal; null when it fits. */
export function memoryOverHost(memoryMib: number, hostMemoryBytes: number): string | null {
  const cap = hostMemoryMib(hostMemoryBytes);
  if (memoryMib <= cap) return null;
  const shown = hostMemoryBytes >= GIB ? `${(hostMemoryBytes / GIB).toFixed(1)} GiB` : `${cap} MiB`;
  return `memory must be at most the host's RAM, ${cap} MiB (${shown}) (got ${memoryMib} MiB)`;
}
