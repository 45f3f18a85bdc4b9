/**
 * Flattens OCI layer blobs (oldest first) into a host directory tree plus its model
 * (TreeMeta), as whoever runs it: no root, no mount. Decompression is chosen by the blob's
 * first bytes (gzip, zstd, or plain tar) once its media type says it is a layer; every
 * uncompressed byte is counted as the decompressor produces it, so the per-layer and total
 * caps stop a bomb there. The caller owns treeDir (an empty 0700 directory it made) and
 * removes it afterwards, whatever happens: on failure it is left half-filled.
 */
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { BangerError, GIB, MIB } from '../model/index.js';
import { applyEntry } from './applyEntry.js';
import { ByteReader, CapExceeded, Truncated } from './byteReader.js';
import { HostTree } from './hostTree.js';
import { EntryRefused } from './pathPolicy.js';
import { SkipList } from './skipList.js';
import { readTar, type TarEntry, TarError } from './tarReader.js';
import { breather, contentBytes, newTree, walk, type TreeMeta } from './treeMeta.js';

export interface LayerInput {
  digest: string;
  /** A verified blob file in the cache. */
  path: string;
  mediaType: string;
}

/** Caps on uncompressed bytes and entries. */
export interface FlattenLimits {
  maxLayerBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
  /** Largest PAX header / GNU long name. */
  maxHeaderBytes: number;
}

export const DEFAULT_FLATTEN_LIMITS: FlattenLimits = {
  maxLayerBytes: 16 * GIB,
  maxTotalBytes: 32 * GIB,
  maxEntries: 1_000_000,
  maxHeaderBytes: MIB,
};

export interface FlattenProgress {
  layerIndex: number;
  layerCount: number;
  digest: string;
  entries: number;
  bytes: number;
}

export interface FlattenResult {
  tree: TreeMeta;
  /** Bytes of regular file content in the final tree (hard links once). */
  contentBytes: number;
  entries: number;
  /**
   * Entries and xattrs not carried (unknown types, sparse files, overlayfs xattrs...): the
   * first 100, then one `{ path: '…', why: 'and N more: REASON' }` row per reason (skipList.ts).
   */
  skipped: Array<{ path: string; why: string }>;
  /** Device nodes and fifos in the tree: recreated in the image by debugfs mknod (buildExt4), never skipped. */
  specialFiles: number;
}

function decompressorFor(layer: LayerInput): zlib.Gunzip | zlib.ZstdDecompress | null {
  if (!/layer|rootfs\.diff/.test(layer.mediaType))
    throw new BangerError('bad_request', `layer ${layer.digest}: media type "${layer.mediaType}" is not a layer`);
  const head = Buffer.alloc(4);
  const fd = openSync(layer.path, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return zlib.createGunzip();
  if (head.readUInt32LE(0) === 0xfd2fb528) {
    if (typeof zlib.createZstdDecompress !== 'function')
      throw new BangerError('operation_failed', `layer ${layer.digest} is zstd-compressed and this Node has no zstd`, {
        hint: `zstd needs Node 22.15 or later; this is ${process.version}`,
      });
    return zlib.createZstdDecompress();
  }
  return null;
}

interface FlattenParams {
  layers: readonly LayerInput[];
  treeDir: string;
  limits?: FlattenLimits;
  onProgress?: (p: FlattenProgress) => void;
  signal?: AbortSignal;
}

/** What one flatten has counted so far, across layers. */
interface RunState {
  p: FlattenParams;
  limits: FlattenLimits;
  tree: TreeMeta;
  host: HostTree;
  skipped: SkipList;
  entries: number;
  total: number;
}

export async function flattenLayers(p: FlattenParams): Promise<FlattenResult> {
  const host = HostTree.open(p.treeDir, true);
  const run: RunState = {
    p,
    limits: p.limits ?? DEFAULT_FLATTEN_LIMITS,
    tree: newTree(),
    host,
    skipped: new SkipList(),
    entries: 0,
    total: 0,
  };
  try {
    for (const [layerIndex, layer] of p.layers.entries()) {
      await applyLayer(run, layer, layerIndex);
      reportProgress(run, layer, layerIndex);
    }
    await setDirTimes(host, run.tree);
  } finally {
    host.close();
  }
  const c = await contentBytes(run.tree);
  return {
    tree: run.tree,
    contentBytes: c.bytes,
    entries: c.entries,
    skipped: run.skipped.list(),
    specialFiles: c.specialFiles,
  };
}

function reportProgress(run: RunState, layer: LayerInput, layerIndex: number): void {
  run.p.onProgress?.({
    layerIndex,
    layerCount: run.p.layers.length,
    digest: layer.digest,
    entries: run.entries,
    bytes: run.total,
  });
}

/** Any failure while reading a layer as banger's refusal naming layer and entry; other errors as they are. */
function asRefusal(e: unknown, layer: LayerInput, current: string): unknown {
  const refuse = (entry: string, why: string) =>
    new BangerError('bad_request', `layer ${layer.digest}: entry "${entry}": ${why}`, {
      hint: 'this image has a layer banger will not apply; use another image or tag',
    });
  if (e instanceof TarError) return refuse(e.entry || current, e.message);
  if (e instanceof EntryRefused || e instanceof CapExceeded || e instanceof Truncated)
    return refuse(current, e.message);
  const code = String((e as NodeJS.ErrnoException).code);
  // The descriptor-level guard (hostTree.ts) caught what the model did not: still a refusal.
  if (['ELOOP', 'EXDEV', 'ENOTDIR'].includes(code))
    return refuse(current, `the path leaves the image on the host (${code})`);
  if (/^Z_|ERR_ZSTD|ERR_ZLIB/.test(code)) return refuse(current, `the layer is corrupt: ${(e as Error).message}`);
  return e;
}

async function applyLayer(run: RunState, layer: LayerInput, layerIndex: number): Promise<void> {
  const { limits, p } = run;
  let current = '';
  let layerBytes = 0;
  const z = decompressorFor(layer);
  const file = createReadStream(layer.path, { highWaterMark: 256 * 1024 });
  const source: Readable = z ? file.pipe(z) : file;
  file.on('error', (e) => source.destroy(e));
  const reader = new ByteReader(source, (n) => {
    p.signal?.throwIfAborted(); // also inside one big entry
    layerBytes += n;
    run.total += n;
    if (layerBytes > limits.maxLayerBytes)
      throw new CapExceeded(`the layer exceeds ${limits.maxLayerBytes} bytes uncompressed`);
    if (run.total > limits.maxTotalBytes)
      throw new CapExceeded(`the image exceeds ${limits.maxTotalBytes} bytes uncompressed`);
  });
  const ctx = { tree: run.tree, host: run.host, layer: layerIndex, skipped: run.skipped };
  const onEntry = async (e: TarEntry, data: AsyncIterable<Buffer>) => {
    p.signal?.throwIfAborted();
    if (++run.entries > limits.maxEntries) throw new CapExceeded(`more than ${limits.maxEntries} entries`);
    await applyEntry(ctx, e, data);
    if (run.entries % 4096 === 0) await breather(); // buffered input resolves in microtasks only
    if (run.entries % 1000 === 0) reportProgress(run, layer, layerIndex);
  };
  try {
    await readTar(
      reader,
      limits,
      onEntry,
      (name) => {
        current = name;
      },
      (name, why) => run.skipped.add(name, why),
    );
    await reader.drain();
  } catch (e) {
    throw asRefusal(e, layer, current);
  } finally {
    source.destroy();
    file.destroy();
  }
}

/** Directory mtimes last (making entries in a directory changes its mtime), deepest first. */
async function setDirTimes(host: HostTree, tree: TreeMeta): Promise<void> {
  const dirs: Array<[string[], number]> = [];
  let seen = 0;
  for (const [comps, n] of walk(tree.root)) {
    if (++seen % 4096 === 0) await breather();
    if (n.kind === 'dir') dirs.push([comps, n.meta.mtime]);
  }
  for (let i = dirs.length - 1; i >= 0; i--) {
    if (i % 4096 === 0) await breather();
    host.setDirTime(dirs[i]![0], dirs[i]![1]);
  }
  host.setDirTime([], tree.root.meta.mtime);
}
