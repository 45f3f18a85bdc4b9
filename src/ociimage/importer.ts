/**
 * Turns a resolved OCI image into a banger image directory, as the owner and without
 * mounting anything. The daemon brings the layers into the content-addressed cache (each
 * verified by digest, shared between pulls); a child process (`bangerd --import-image`,
 * worker.ts) flattens them, adds banger's agent and init and builds rootfs.ext4, so the
 * untrusted layers are parsed outside the daemon. A failed import leaves no image directory.
 */
import { parseJsonObject } from '../framing/index.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonScriptPath } from '../buildinfo/index.js';
import { BangerError, type ErrorCode, type ImageOci } from '../model/index.js';
import type { BlobCache, RegistryClient, ResolvedImage } from '../oci/index.js';
import type { HostRunner } from '../system/index.js';
import type { BuildFromLayersInput, BuiltFromLayers } from './buildFromLayers.js';
import { fetchLayers } from './layerFetch.js';
import { PROGRESS_PREFIX } from './worker.js';

export interface ImportDeps {
  runner: HostRunner;
  cache: BlobCache;
  client: RegistryClient;
  /** The static guest binaries injected into every image (dist/agent/). */
  agentBinary: string;
  initBinary: string;
}

export interface ImportInput<T> {
  resolved: ResolvedImage;
  scratchParent: string;
  /**
   * Called, synchronously, with the complete image in a staging directory (rootfs.ext4
   * inside): it moves it into place and records it (whatever it returns is returned), or
   * throws and the staged image is removed. Synchronous, so that nothing else the daemon
   * does can come between its checks and its changes.
   */
  commit: (stagedDir: string, imported: ImportedImage) => T;
  /** ext4 size; default content x 1.5 with a 1 GiB floor. */
  sizeBytes?: number | undefined;
  installSshd: boolean;
  progress?: ((stage: string, detail?: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface ImportedImage {
  /** The rootfs's file name in the image directory. */
  rootfsName: string;
  sizeBytes: number;
  distro: string | null;
  oci: ImageOci;
}

/** A flatten of a large image under emulation-level load can take a while; cancelling kills it. */
const WORKER_TIMEOUT_MS = 2 * 3_600_000;

export async function importOciImage<T>(d: ImportDeps, i: ImportInput<T>): Promise<T> {
  const { resolved } = i;
  const blobs = await fetchLayers(d.cache, d.client, resolved, i.progress, i.signal);
  mkdirSync(i.scratchParent, { recursive: true });
  const dir = mkdtempSync(join(i.scratchParent, '.import-'));
  try {
    const staged = join(dir, 'image');
    const built = await runWorker(d.runner, i, dir, {
      ref: resolved.ref.text,
      layers: resolved.layers.map((l, n) => ({ digest: l.digest, path: blobs[n]!, mediaType: l.mediaType })),
      dest: staged,
      scratchParent: i.scratchParent,
      ...(i.sizeBytes !== undefined && { sizeBytes: i.sizeBytes }),
      installSshd: i.installSshd,
      agentBinary: d.agentBinary,
      initBinary: d.initBinary,
    });
    return i.commit(staged, imported(resolved, built, i.installSshd));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function imported(resolved: ResolvedImage, built: BuiltFromLayers, installSshd: boolean): ImportedImage {
  const { detected } = built;
  return {
    rootfsName: 'rootfs.ext4',
    sizeBytes: built.sizeBytes,
    distro: detected.osId,
    oci: {
      ref: resolved.ref.text,
      manifestDigest: resolved.manifestDigest,
      configDigest: resolved.configDigest,
      layers: resolved.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
      os: detected.os,
      init: detected.init,
      initPath: detected.initPath,
      sshd: detected.sshd,
      installSshd: installSshd && !detected.sshd,
      packageManager: detected.packageManager,
      injected: built.injected,
      skipped: built.skipped,
    },
  };
}

/** Runs `bangerd --import-image` on a params file in `dir`, relaying its progress; its error becomes ours. */
async function runWorker<T>(
  runner: HostRunner,
  i: ImportInput<T>,
  dir: string,
  params: BuildFromLayersInput,
): Promise<BuiltFromLayers> {
  const file = join(dir, 'params.json');
  writeFileSync(file, JSON.stringify(params), { mode: 0o600 });
  const r = await runner.run([process.execPath, daemonScriptPath(), '--import-image', file], {
    allowFailure: true,
    timeoutMs: WORKER_TIMEOUT_MS,
    ...(i.signal && { signal: i.signal }),
    onStderrLine: (line) => {
      if (!line.startsWith(PROGRESS_PREFIX)) return;
      const p = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as { stage: string; detail?: string };
      i.progress?.(p.stage, p.detail);
    },
  });
  const outcome = lastJsonLine(r.stdout);
  if (outcome?.ok === true) return outcome.result as BuiltFromLayers;
  if (outcome?.ok === false) {
    const e = outcome.error as { code: ErrorCode; message: string; hint: string | null };
    throw new BangerError(e.code, e.message, e.hint ? { hint: e.hint } : {});
  }
  const tail = r.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith(PROGRESS_PREFIX))
    .slice(-3)
    .join('; ');
  throw new BangerError(
    'operation_failed',
    `the image build process failed (exit ${r.exitCode}): ${tail || 'no output'}`,
  );
}

function lastJsonLine(stdout: string): { ok?: unknown; result?: unknown; error?: unknown } | null {
  return parseJsonObject(stdout.trim().split('\n').pop() ?? '');
}
