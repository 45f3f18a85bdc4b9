/**
 * Flattens layer blobs into an ext4 image with banger's imagefs, as whoever runs it: the
 * integration test calls buildFromLayers in-process (root) and runs this file as a script
 * under a throwaway unprivileged user (`node imagefsWorker.js '<json spec>'`, one JSON line
 * of result on stdout) to show no root is needed.
 */
import { fileURLToPath } from 'node:url';
import {
  addTreeFile,
  addTreeSymlink,
  buildExt4,
  flattenLayers,
  type FlattenLimits,
  type LayerInput,
  readTreeFile,
  treeEntryKind,
} from '../../src/imagefs/index.js';
import { ExecHostRunner } from '../../src/system/index.js';

export interface BuildSpec {
  layers: LayerInput[];
  treeDir: string;
  out: string;
  limits?: FlattenLimits;
  /** Add banger's files (an agent binary stand-in and a symlink), as image pull will. */
  inject?: boolean;
}

export interface BuildOutcome {
  entries: number;
  contentBytes: number;
  skipped: Array<{ path: string; why: string }>;
  specialFiles: number;
  osRelease: string | null;
  initKind: string | null;
  flattenMs: number;
  ext4Ms: number;
}

export async function buildFromLayers(spec: BuildSpec): Promise<BuildOutcome> {
  const t0 = Date.now();
  const r = await flattenLayers({ layers: spec.layers, treeDir: spec.treeDir, limits: spec.limits });
  const t1 = Date.now();
  if (spec.inject) {
    addTreeFile(spec.treeDir, r.tree, {
      path: '/usr/local/bin/banger-agent',
      content: '#!/bin/sh\necho agent\n',
      mode: 0o755,
    });
    addTreeSymlink(
      spec.treeDir,
      r.tree,
      '/etc/systemd/system/multi-user.target.wants/banger-agent.service',
      '/etc/systemd/system/banger-agent.service',
    );
  }
  const osRelease = readTreeFile(spec.treeDir, r.tree, '/etc/os-release')?.toString() ?? null;
  const initKind = treeEntryKind(r.tree, '/sbin/init');
  const t2 = Date.now();
  await buildExt4({ runner: new ExecHostRunner(), treeDir: spec.treeDir, tree: r.tree, out: spec.out });
  return {
    entries: r.entries,
    contentBytes: r.contentBytes,
    skipped: r.skipped,
    specialFiles: r.specialFiles,
    osRelease,
    initKind,
    flattenMs: t1 - t0,
    ext4Ms: Date.now() - t2,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildFromLayers(JSON.parse(process.argv[2]!) as BuildSpec).then(
    (o) => process.stdout.write(`${JSON.stringify(o)}\n`),
    (e: Error) => {
      process.stdout.write(`${JSON.stringify({ error: e.message })}\n`);
      process.exitCode = 1;
    },
  );
}
