/**
 * Concurrent requests for the same key share one in-flight promise (docs/howto/vms.md: concurrent
 * pulls of one name coalesce: the first runs, the others wait for it).
 */
export class Coalescer<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    const p = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }
}
