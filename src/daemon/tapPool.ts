import { POOL_TAP_PREFIX } from '../model/index.js';
import type { Logger } from '../log/index.js';
import type { PrivContext, PrivilegedOps } from '../privops/index.js';

export interface TapPoolDeps {
  privileged: PrivilegedOps;
  log: Logger;
  bridge: string;
  /** How many idle taps to keep (config tap_pool_size); 0 turns the pool off. */
  size: number;
}

/** Pool taps are named tap-pool-<n> (model/hostNames.ts). */
const POOL_PREFIX = POOL_TAP_PREFIX;

/**
 * The warm pool of idle taps (docs/howto/networking.md): `size` taps named tap-pool-N kept attached to the
 * bridge, so a starting VM takes one instead of creating its own. A used tap is deleted
 * with its VM; the pool is refilled in the background, the missing taps in parallel.
 * Only taps attached to this daemon's bridge are ever adopted or removed.
 */
export class TapPool {
  private idle: string[] = [];
  private refilling: Promise<void> | null = null;

  constructor(private readonly d: TapPoolDeps) {}

  /** An idle tap for a starting VM, or null (pool empty or off): the caller then creates its own. */
  take(): string | null {
    return this.idle.shift() ?? null;
  }

  idleTaps(): readonly string[] {
    return this.idle;
  }

  /**
   * At daemon start: pool taps left on our bridge become idle members again; VM taps
   * (tap-fc-*) on our bridge that no running VM holds are deleted.
   */
  async reclaim(inUse: ReadonlySet<string>, ctx: PrivContext): Promise<{ adopted: string[]; deleted: string[] }> {
    const taps = (await this.d.privileged.listTaps({}, ctx)).filter(
      (t) => t.master === this.d.bridge && !inUse.has(t.name),
    );
    const adopted: string[] = [];
    const deleted: string[] = [];
    for (const t of taps) {
      if (t.name.startsWith(POOL_PREFIX) && adopted.length < this.d.size) {
        adopted.push(t.name);
      } else {
        await this.d.privileged.deleteTap({ name: t.name }, ctx);
        deleted.push(t.name);
      }
    }
    this.idle = adopted;
    return { adopted, deleted };
  }

  /** Tops the pool up to its size in the background; concurrent calls share one refill. */
  refill(ctx: PrivContext): Promise<void> {
    this.refilling ??= this.fill(ctx).finally(() => {
      this.refilling = null;
    });
    return this.refilling;
  }

  private async fill(ctx: PrivContext): Promise<void> {
    const missing = this.d.size - this.idle.length;
    if (missing <= 0) return;
    try {
      const taken = new Set((await this.d.privileged.listTaps({}, ctx)).map((t) => t.name));
      const names: string[] = [];
      for (let n = 0; names.length < missing && n < 10_000; n++) {
        const name = `${POOL_PREFIX}${n}`;
        if (!taken.has(name)) names.push(name);
      }
      const made = await Promise.allSettled(
        names.map(async (name) => {
          await this.d.privileged.createTap({ name }, ctx);
          return name;
        }),
      );
      for (const r of made) {
        if (r.status === 'fulfilled') this.idle.push(r.value);
        else
          this.d.log.warn('could not add a tap to the pool', { op_id: ctx.opId, error: (r.reason as Error).message });
      }
    } catch (e) {
      this.d.log.warn('tap pool refill failed', { op_id: ctx.opId, error: (e as Error).message });
    }
  }

  /** Waits for a refill in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await this.refilling;
  }
}
