/**
 * The content-addressed blob cache: `<dir>/blobs/sha256/<hex>`, directories 0700, files 0600.
 *
 * A blob enters the cache only one way: streamed into `.partial-<hex>-<random>` beside its final
 * name, hashed while written, fsynced, its size and sha256 checked, then renamed into place. On
 * any failure the partial is removed; a partial is never read (a stale one, from a crash, is
 * removed by `prune` after an hour). So a file under its digest name was verified when it got
 * there. On a cache hit only its size is checked (one stat): re-hashing gigabytes on every pull
 * is the cost declined; a truncated or grown file (size differs) is removed and fetched again.
 *
 * `ensure` of a digest already downloading in this process joins that download (one request
 * for two pulls sharing a layer); the download stops only when every caller waiting on it
 * has been cancelled.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BangerError } from '../model/index.js';
import type { RegistryClient } from './client.js';
import { checkFreeSpace } from './diskSpace.js';
import { digestMismatch, networkError, noSpace } from './errors.js';
import type { Descriptor } from './manifest.js';
import { ProgressMeter, type BlobProgress } from './progress.js';
import { digestProblem, type ImageRef } from './ref.js';

/** A partial this old belongs to no live download (downloads stall out after 30 s idle). */
const STALE_PARTIAL_MS = 60 * 60 * 1000;
const PARTIAL_PREFIX = '.partial-';

interface Flight {
  size: number;
  promise: Promise<string>;
  listeners: Set<(p: BlobProgress) => void>;
  waiters: number;
  controller: AbortController;
}

const cancelled = (ref: ImageRef) => new BangerError('interrupted', `pulling ${ref.text}: cancelled`);

export class BlobCache {
  readonly dir: string;
  private readonly blobDir: string;
  private readonly flights = new Map<string, Flight>();

  constructor(dir: string) {
    this.dir = dir;
    this.blobDir = join(dir, 'blobs', 'sha256');
  }

  /** The path a blob has (or would have) in the cache. Throws bad_request for a non-sha256 digest. */
  pathFor(digest: string): string {
    const problem = digestProblem(digest);
    if (problem)
      throw new BangerError('bad_request', `blob ${JSON.stringify(digest)}: ${problem}`, {
        hint: 'only sha256 content is cached',
      });
    return join(this.blobDir, digest.slice('sha256:'.length));
  }

  /** Whether the blob is in the cache (a regular file under its digest name). */
  has(digest: string): boolean {
    if (digestProblem(digest)) return false;
    try {
      return lstatSync(this.pathFor(digest)).isFile();
    } catch {
      return false;
    }
  }

  /**
   * The verified blob's path, downloading it first unless cached. Concurrent calls for one
   * digest share one download. `onProgress` gets at most ~4 reports a second plus a final
   * one (`cached: true`, once, when nothing was downloaded).
   */
  async ensure(
    client: RegistryClient,
    ref: ImageRef,
    desc: Descriptor,
    onProgress?: (p: BlobProgress) => void,
    signal?: AbortSignal,
  ): Promise<string> {
    const path = this.pathFor(desc.digest);
    if (signal?.aborted) throw cancelled(ref);
    let flight = this.flights.get(desc.digest);
    if (!flight || flight.controller.signal.aborted) {
      if (this.hit(path, desc.size)) {
        onProgress?.({
          digest: desc.digest,
          doneBytes: desc.size,
          totalBytes: desc.size,
          bytesPerSec: 0,
          cached: true,
        });
        return path;
      }
      flight = this.start(client, ref, desc, path);
    }
    return this.join(flight, ref, onProgress, signal);
  }

  /**
   * Fails (operation_failed, "no space left in <dir>: need X, have Y") unless the cache's
   * filesystem has room for every blob of `descs` not yet cached or downloading, plus a margin.
   * Call it before fetching an image's layers; each download checks again for itself.
   */
  async checkSpace(ref: ImageRef, descs: readonly Descriptor[]): Promise<void> {
    const missing = descs.filter((d) => !this.flights.has(d.digest) && !sizeIs(this.pathFor(d.digest), d.size));
    mkdirSync(this.blobDir, { recursive: true, mode: 0o700 });
    await checkFreeSpace(ref, this.dir, sum(new Map(missing.map((d) => [d.digest, d.size])).values()));
  }

  /** Every blob in the cache (partials excluded). */
  list(): Array<{ digest: string; size: number }> {
    return this.entries()
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .flatMap((n) => {
        try {
          const st = lstatSync(join(this.blobDir, n));
          return st.isFile() ? [{ digest: `sha256:${n}`, size: st.size }] : [];
        } catch {
          return [];
        }
      });
  }

  /**
   * Removes every blob not in `keep` (digests), and partials older than STALE_PARTIAL_MS that
   * no download of this process owns. With `dryRun` nothing is removed; the answer is the same.
   * The caller keeps pulls from starting meanwhile (a blob just verified but not yet referenced
   * by an image record is not in `keep`).
   */
  prune(
    keep: ReadonlySet<string>,
    dryRun: boolean,
  ): { removed: Array<{ digest: string; size: number }>; freedBytes: number; removedPartials: number } {
    const removed = this.list().filter((b) => !keep.has(b.digest));
    let freedBytes = 0;
    for (const b of removed) {
      freedBytes += b.size;
      if (!dryRun) rmSync(this.pathFor(b.digest), { force: true });
    }
    let removedPartials = 0;
    const now = Date.now();
    for (const n of this.entries().filter((e) => e.startsWith(PARTIAL_PREFIX))) {
      const hex = n.slice(PARTIAL_PREFIX.length, PARTIAL_PREFIX.length + 64);
      if (this.flights.has(`sha256:${hex}`)) continue;
      const p = join(this.blobDir, n);
      try {
        const st = lstatSync(p);
        if (now - st.mtimeMs < STALE_PARTIAL_MS) continue;
        freedBytes += st.size;
        removedPartials++;
        if (!dryRun) rmSync(p, { force: true });
      } catch {
        // gone meanwhile
      }
    }
    return { removed, freedBytes, removedPartials };
  }

  private entries(): string[] {
    try {
      return readdirSync(this.blobDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  /** A cached blob of the right size; one of the wrong size, or not a regular file, is removed (and fetched again). */
  private hit(path: string, size: number): boolean {
    try {
      const st = lstatSync(path);
      if (st.isFile() && st.size === size) return true;
      rmSync(path, { force: true });
    } catch {
      // absent
    }
    return false;
  }

  private start(client: RegistryClient, ref: ImageRef, desc: Descriptor, path: string): Flight {
    const flight: Flight = {
      size: desc.size,
      listeners: new Set(),
      waiters: 0,
      controller: new AbortController(),
      promise: Promise.resolve(''),
    };
    const meter = new ProgressMeter(desc, (p) => {
      for (const l of flight.listeners) l(p);
    });
    flight.promise = this.download(client, ref, desc, path, meter, flight.controller.signal).finally(() => {
      if (this.flights.get(desc.digest) === flight) this.flights.delete(desc.digest);
    });
    flight.promise.catch(() => undefined);
    this.flights.set(desc.digest, flight);
    return flight;
  }

  /**
   * Waits on `flight` for one caller; that caller's cancellation only leaves it, unless it was
   * the last one: then the download stops and the caller is answered after its cleanup.
   */
  private join(
    flight: Flight,
    ref: ImageRef,
    onProgress?: (p: BlobProgress) => void,
    signal?: AbortSignal,
  ): Promise<string> {
    flight.waiters++;
    if (onProgress) flight.listeners.add(onProgress);
    return new Promise((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        if (onProgress) flight.listeners.delete(onProgress);
      };
      const onAbort = () => {
        done();
        if (--flight.waiters > 0) return reject(cancelled(ref));
        // The last waiter: stop the download and answer once its partial is gone.
        flight.controller.abort();
        flight.promise.then(
          () => reject(cancelled(ref)),
          () => reject(cancelled(ref)),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (p) => {
          done();
          resolve(p);
        },
        (e) => {
          done();
          reject(e);
        },
      );
    });
  }

  private async download(
    client: RegistryClient,
    ref: ImageRef,
    desc: Descriptor,
    path: string,
    meter: ProgressMeter,
    signal: AbortSignal,
  ): Promise<string> {
    const partial = join(this.blobDir, `${PARTIAL_PREFIX}${desc.digest.slice(7)}-${randomBytes(6).toString('hex')}`);
    let fh: FileHandle | null = null;
    let stream: Readable | null = null;
    try {
      mkdirSync(this.blobDir, { recursive: true, mode: 0o700 });
      // Room for this blob and the others downloading meanwhile (their full sizes: conservative).
      const others = [...this.flights].filter(([d]) => d !== desc.digest).map(([, f]) => f.size);
      await checkFreeSpace(ref, this.dir, desc.size + sum(others), desc.digest);
      fh = await open(partial, 'wx', 0o600);
      stream = await client.openBlob(ref, desc, signal);
      const got = await copyHashed(stream, fh, desc, ref, meter);
      if (got !== desc.digest.slice(7)) throw digestMismatch(ref, 'blob', desc.digest, got);
      await fh.sync();
      await fh.close();
      fh = null;
      await rename(partial, path);
      await syncDir(this.blobDir);
      meter.finish();
      return path;
    } catch (e) {
      stream?.destroy();
      await fh?.close().catch(() => undefined);
      await rm(partial, { force: true }).catch(() => undefined);
      throw this.mapError(e, ref, desc, signal);
    }
  }

  private mapError(e: unknown, ref: ImageRef, desc: Descriptor, signal: AbortSignal): BangerError {
    if (e instanceof BangerError) return e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return noSpace(ref, this.dir, desc.digest, e);
    if (signal.aborted) return cancelled(ref);
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && (e as { syscall?: string }).syscall)
      return new BangerError(
        'operation_failed',
        `cannot write ${desc.digest} of ${ref.text} into ${this.dir}: ${(e as Error).message}`,
        {
          hint: 'check the permissions and health of the cache directory',
          cause: e,
        },
      );
    return networkError(ref, ref.registry, e);
  }
}

/** Streams `src` into `fh`, hashing and counting; refuses bytes past `desc.size` and a short body. */
async function copyHashed(
  src: Readable,
  fh: FileHandle,
  desc: Descriptor,
  ref: ImageRef,
  meter: ProgressMeter,
): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of src as AsyncIterable<Buffer>) {
    done += chunk.length;
    if (done > desc.size)
      throw new BangerError(
        'operation_failed',
        `${ref.text}: blob ${desc.digest} is longer than the ${desc.size} bytes its manifest says; refusing it`,
        {
          hint: 'the registry served something else than the manifest describes',
        },
      );
    hash.update(chunk);
    for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    meter.update(done);
  }
  if (done !== desc.size)
    throw new BangerError(
      'operation_failed',
      `${ref.text}: blob ${desc.digest} ended after ${done} of ${desc.size} bytes`,
      {
        hint: 'the connection broke or the registry served a short blob; retry',
      },
    );
  return hash.digest('hex');
}

const sum = (ns: Iterable<number>) => [...ns].reduce((a, b) => a + b, 0);

/** Whether `path` is a regular file of `size` bytes. */
function sizeIs(path: string, size: number): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && st.size === size;
  } catch {
    return false;
  }
}

/** fsyncs a directory so a rename in it survives a crash (best effort: some filesystems refuse). */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r').catch(() => null);
  await d?.sync().catch(() => undefined);
  await d?.close().catch(() => undefined);
}
