/**
 * Per-blob download progress: reports at most every PROGRESS_INTERVAL_MS plus a final one,
 * and the line a user sees for it.
 */
import type { Descriptor } from './manifest.js';

export interface BlobProgress {
  digest: string;
  doneBytes: number;
  totalBytes: number;
  /** Average since the download started (0 when cached). */
  bytesPerSec: number;
  /** True when the blob was already in the cache and nothing was downloaded. */
  cached: boolean;
}

const PROGRESS_INTERVAL_MS = 250;

export class ProgressMeter {
  private readonly started = Date.now();
  private last = 0;
  private done = 0;

  constructor(
    private readonly desc: Descriptor,
    private readonly emit: (p: BlobProgress) => void,
  ) {}

  private report(): void {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    this.emit({
      digest: this.desc.digest,
      doneBytes: this.done,
      totalBytes: this.desc.size,
      bytesPerSec: Math.round(this.done / secs),
      cached: false,
    });
  }

  /** `done` bytes are written; reports when the last report is old enough. */
  update(done: number): void {
    this.done = done;
    const now = Date.now();
    if (now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.report();
  }

  /** The final report (the blob is verified and in place). */
  finish(): void {
    this.done = this.desc.size;
    this.report();
  }
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** One line for a progress report: "sha256:0123456789ab  12.0 MiB / 40.5 MiB  5.1 MiB/s" (or "… cached"). */
export function formatBlobProgress(p: BlobProgress): string {
  const id = p.digest.slice(0, 'sha256:'.length + 12);
  if (p.cached) return `${id}  ${bytes(p.totalBytes)}  cached`;
  return `${id}  ${bytes(p.doneBytes)} / ${bytes(p.totalBytes)}  ${bytes(p.bytesPerSec)}/s`;
}
