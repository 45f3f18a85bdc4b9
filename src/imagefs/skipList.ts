/**
 * What a flatten did not carry, bounded: FlattenResult.skipped is stored whole in the image
 * record and shown by `image show`, and a layer can make millions of such rows. The first
 * MAX_ROWS are kept as they are; later ones are only counted, per reason (at most
 * MAX_REASONS reasons, the rest under "other reasons"), and listed last as
 * `{ path: '…', why: 'and N more: REASON' }`. Paths and reasons are clipped to MAX_TEXT chars.
 */
export interface SkippedRow {
  path: string;
  why: string;
}

const MAX_ROWS = 100;
const MAX_REASONS = 10;
const MAX_TEXT = 300;
const OTHER = 'other reasons';

const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

export class SkipList {
  private readonly rows: SkippedRow[] = [];
  private readonly more = new Map<string, number>();

  add(path: string, why: string): void {
    if (this.rows.length < MAX_ROWS) {
      this.rows.push({ path: clip(path), why: clip(why) });
      return;
    }
    const reason = clip(why);
    const key = this.more.has(reason) || this.more.size < MAX_REASONS ? reason : OTHER;
    this.more.set(key, (this.more.get(key) ?? 0) + 1);
  }

  /** At most MAX_ROWS rows plus MAX_REASONS + 1 summary rows. */
  list(): SkippedRow[] {
    const summary = [...this.more].map(([why, n]) => ({ path: '…', why: `and ${n} more: ${why}` }));
    return [...this.rows, ...summary];
  }
}
