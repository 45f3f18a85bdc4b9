/**
 * The heavy half of an import, run in its own process (worker.ts): verified layer blobs
 * are flattened oldest first into a scratch tree (src/imagefs refuses anything that would
 * leave it), the image is looked at (detect.ts), banger's agent and init are added
 * (inject.ts), and `mkfs.ext4 -d` plus one debugfs session make rootfs.ext4 with the
 * image's owners. The scratch directory is removed whatever happens; `dest` is replaced
 * only by a complete image.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  addTreeFile,
  addTreeSymlink,
  buildExt4,
  flattenLayers,
  type LayerInput,
  readTreeFile,
  type TreeMeta,
  treeEntryKind,
} from '../imagefs/index.js';
import { BangerError, formatBytesIec } from '../model/index.js';
import type { HostRunner } from '../system/index.js';
import { type DetectedImage, detectImage } from './detect.js';
import { describeInjection, type Injection, planInjection } from './inject.js';

export interface BuildFromLayersInput {
  /** The reference, for errors. */
  ref: string;
  layers: LayerInput[];
  /** Final directory of the image, <imagesDir>/<name>. */
  dest: string;
  scratchParent: string;
  sizeBytes?: number | undefined;
  installSshd: boolean;
  /** The static guest binaries injected into the image (dist/agent/). */
  agentBinary: string;
  initBinary: string;
}

export interface BuiltFromLayers {
  rootfsPath: string;
  sizeBytes: number;
  detected: DetectedImage;
  injected: string[];
  skipped: Array<{ path: string; why: string }>;
}

export async function buildFromLayers(
  runner: HostRunner,
  i: BuildFromLayersInput,
  progress?: (stage: string, detail?: string) => void,
): Promise<BuiltFromLayers> {
  mkdirSync(i.scratchParent, { recursive: true });
  const scratch = mkdtempSync(join(i.scratchParent, '.pull-'));
  try {
    const treeDir = join(scratch, 'tree');
    mkdirSync(treeDir, { mode: 0o700 });
    const flat = await flattenLayers({
      layers: i.layers,
      treeDir,
      onProgress: (p) =>
        progress?.(
          'flatten',
          `layer ${p.layerIndex + 1}/${p.layerCount}: ${p.entries} entries, ${formatBytesIec(p.bytes)}`,
        ),
    });
    const tree = flat.tree;
    const detected = detectImage({ read: (p) => readTreeFile(treeDir, tree, p), kind: (p) => treeEntryKind(tree, p) });
    if (i.installSshd && !detected.sshd && !detected.packageManager)
      throw new BangerError(
        'bad_request',
        `${i.ref}: --install-sshd needs a package manager, and this image has none`,
        {
          hint: 'without sshd, `vm ssh`, `vm exec` and `vm run -- CMD` still work through the agent',
        },
      );
    const plan = planInjection(detected);
    applyInjection(treeDir, tree, plan, i);
    progress?.('mkfs', `rootfs.ext4 from ${flat.entries} entries (${formatBytesIec(flat.contentBytes)})`);
    const out = join(scratch, 'out');
    mkdirSync(out);
    const built = await buildExt4({
      runner,
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
      detected,
      injected: describeInjection(plan),
      skipped: flat.skipped,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function applyInjection(treeDir: string, tree: TreeMeta, plan: readonly Injection[], i: BuildFromLayersInput): void {
  for (const inj of plan) {
    if (inj.kind === 'symlink') addTreeSymlink(treeDir, tree, inj.path, inj.target);
    else
      addTreeFile(treeDir, tree, {
        path: inj.path,
        mode: inj.mode,
        content:
          inj.kind === 'file' ? inj.content : readFileSync(inj.source === 'agent' ? i.agentBinary : i.initBinary),
      });
  }
}
