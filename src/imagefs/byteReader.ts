/**
 * Pulls bytes from an async source (a decompressor's output) on demand, counting them
 * against a cap as they arrive: the decompressor only runs as far as the reader pulls, so a
 * decompression bomb stops at the cap, not at the end of the bomb.
 */
export class CapExceeded extends Error {}
/** The input ended inside a record. */
export class Truncated extends Error {}

export class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes pulled from the source so far. */
  total = 0;

  constructor(
    source: AsyncIterable<Buffer>,
    /** Called with each chunk's size before it is used; throws (CapExceeded) to stop. */
    private readonly count: (n: number) => void,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.total += chunk.length;
    this.count(chunk.length);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Exactly n bytes, or null at a clean end of input (nothing buffered); a short read throws. */
  async exactly(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null;
        throw new Truncated(`the archive ends in the middle of a record (${this.buf.length} of ${n} bytes)`);
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** The next n bytes as chunks as they arrive (never all at once). */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill()))
        throw new Truncated(`the archive ends inside an entry's data (${left} bytes missing)`);
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) {
      /* discarded */
    }
  }

  /** Drains the rest of the source (counted, so a bomb after the end marker still stops at the cap). */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }
}
