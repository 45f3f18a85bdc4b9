/**
 * Turns a resolved OCI image into a banger image directory, as the owner and without
 * mounting anything: the layers come through the content-addressed cache (each verified
 * by digest, shared between pulls), are flattened oldest first into a scratch tree
 * (src/imagefs refuses anything that would leave it), banger's agent and init are added,
 * and `mkfs.ext4 -d` plus one debugfs session make rootfs.ext4 with the image's owners.
 * The scratch directory is removed whatever happens, and `dest` is only replaced once the
 * new image is complete, so a failed pull leaves no partial image.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  addTreeFile,
  addTreeSymlink,
  buildExt4,
  flattenLayers,
  readTreeFile,
  type TreeMeta,
  treeEntryKind,
} from '../imagefs/index.js';
import { BangerError, formatBytesIec, type ImageOci } from '../model/index.js';
import type { BlobCache, RegistryClient, ResolvedImage } from '../oci/index.js';
import type { HostRunner } from '../system/index.js';
import { type DetectedImage, detectImage } from './detect.js';
import { describeInjection, type Injection, planInjection } from './inject.js';
import { fetchLayers } from './layerFetch.js';

export interface ImportDeps {
  runner: HostRunner;
  cache: BlobCache;
  client: RegistryClient;
  /** The static guest binaries injected into every image (dist/agent/). */
  agentBinary: string;
  initBinary: string;
}

export interface ImportInput {
  resolved: ResolvedImage;
  /** Final directory of the image, <imagesDir>/<name>: replaced only by a complete image. */
  dest: string;
  scratchParent: string;
  /** ext4 size; default content x 1.5 with a 1 GiB floor. */
  sizeBytes?: number | undefined;
  installSshd: boolean;
  progress?: ((stage: string, detail?: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface ImportedImage {
  rootfsPath: string;
  sizeBytes: number;
  distro: string | null;
  oci: ImageOci;
}

export async function importOciImage(d: ImportDeps, i: ImportInput): Promise<ImportedImage> {
  const { resolved } = i;
  const blobs = await fetchLayers(d.cache, d.client, resolved, i.progress, i.signal);
  mkdirSync(i.scratchParent, { recursive: true });
  const scratch = mkdtempSync(join(i.scratchParent, '.pull-'));
  try {
    const treeDir = join(scratch, 'tree');
    mkdirSync(treeDir, { mode: 0o700 });
    const flat = await flattenLayers({
      layers: resolved.layers.map((l, n) => ({ digest: l.digest, path: blobs[n]!, mediaType: l.mediaType })),
      treeDir,
      onProgress: (p) =>
        i.progress?.(
          'flatten',
          `layer ${p.layerIndex + 1}/${p.layerCount}: ${p.entries} entries, ${formatBytesIec(p.bytes)}`,
        ),
      signal: i.signal,
    });
    const tree = flat.tree;
    const detected = detectImage({ read: (p) => readTreeFile(treeDir, tree, p), kind: (p) => treeEntryKind(tree, p) });
    checkInstallSshd(resolved.ref.text, detected, i.installSshd);
    const plan = planInjection(detected);
    applyInjection(treeDir, tree, plan, d);
    i.progress?.('mkfs', `rootfs.ext4 from ${flat.entries} entries (${formatBytesIec(flat.contentBytes)})`);
    const out = join(scratch, 'out');
    mkdirSync(out);
    const built = await buildExt4({
      runner: d.runner,
      treeDir,
      tree,
      out: join(out, 'rootfs.ext4'),
      ...(i.sizeBytes !== undefined && { sizeBytes: i.sizeBytes }),
      label: 'banger-root',
    });
    rmSync(i.dest, { recursive: true, force: true });
    renameSync(out, i.dest);
    return {
      rootfsPath: join(i.dest, 'rootfs.ext4'),
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
        installSshd: i.installSshd && !detected.sshd,
        packageManager: detected.packageManager,
        injected: describeInjection(plan),
        skipped: flat.skipped,
      },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function checkInstallSshd(ref: string, d: DetectedImage, installSshd: boolean): void {
  if (installSshd && !d.sshd && !d.packageManager)
    throw new BangerError('bad_request', `${ref}: --install-sshd needs a package manager, and this image has none`, {
      hint: 'without sshd, `vm ssh`, `vm exec` and `vm run -- CMD` still work through the agent',
    });
}

function applyInjection(treeDir: string, tree: TreeMeta, plan: readonly Injection[], d: ImportDeps): void {
  for (const inj of plan) {
    if (inj.kind === 'symlink') addTreeSymlink(treeDir, tree, inj.path, inj.target);
    else
      addTreeFile(treeDir, tree, {
        path: inj.path,
        mode: inj.mode,
        content:
          inj.kind === 'file' ? inj.content : readFileSync(inj.source === 'agent' ? d.agentBinary : d.initBinary),
      });
  }
}
