/**
 * What `vm stats` reports for one VM (sampled by the daemon every `stats_poll_interval`), and
 * when `auto_stop_stale_after` would stop a VM (`vm show`). Shared by the daemon, the RPC
 * method table and the CLI.
 */
import { z } from 'zod';
import { VM_STATES } from './vm.js';

/** A disk file's blocks in use (st_blocks * 512) and its apparent size (st_size). */
export const diskUsageSchema = z.object({
  path: z.string(),
  allocatedBytes: z.number(),
  apparentBytes: z.number(),
});
export type DiskUsage = z.infer<typeof diskUsageSchema>;

/** The guest's own view, from the agent's `stats`. */
export const guestStatsSchema = z.object({
  memTotalBytes: z.number(),
  memAvailableBytes: z.number(),
  memUsedBytes: z.number(),
  uptimeS: z.number(),
  load: z.tuple([z.number(), z.number(), z.number()]),
  /** ESTABLISHED TCP connections into the guest from elsewhere (to a port it listens on, peer not loopback; ssh included). */
  tcpEstablishedIn: z.number(),
  tcpEstablishedInPorts: z.array(z.number()),
});
export type GuestStats = z.infer<typeof guestStatsSchema>;

/** When the idle stop would come: `stopAt` is touchedAt + auto_stop_stale_after (null when off or not running). */
export const autoStopSchema = z.object({
  enabled: z.boolean(),
  afterMs: z.number(),
  idleSince: z.string(),
  stopAt: z.string().nullable(),
});
export type AutoStop = z.infer<typeof autoStopSchema>;

export const vmStatsSchema = z.object({
  name: z.string(),
  id: z.string(),
  state: z.enum(VM_STATES),
  sampledAt: z.string(),
  vcpu: z.number(),
  /** Host CPU used by the VMM process since the previous sample, in percent of one core (200 = two cores busy). */
  cpuPercent: z.number().nullable(),
  vmmPid: z.number().nullable(),
  vmmRssBytes: z.number().nullable(),
  /** Seconds since the VMM started (null when not running). */
  uptimeS: z.number().nullable(),
  disks: z.object({ root: diskUsageSchema.nullable(), work: diskUsageSchema.nullable() }),
  net: z.object({ tap: z.string(), rxBytes: z.number(), txBytes: z.number() }).nullable(),
  guest: guestStatsSchema.nullable(),
  /** Why there are no guest figures for a running VM (the agent did not answer). */
  guestError: z.string().nullable(),
  touchedAt: z.string(),
  autoStop: autoStopSchema,
});
export type VmStats = z.infer<typeof vmStatsSchema>;
