import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostRunner } from '../system/index.js';
import { guestFullCopyScript, guestPrepareScript, META_DIR, type WorkspacePlan } from './plan.js';

export interface SendResult {
  /** Bytes streamed to the guest (the tar: pack plus work-tree files). */
  bytes: number;
  ms: number;
  /** The guest's HEAD after the copy ("none" for a repository without commits). */
  guestHead: string;
}

/**
 * Streams a workspace into the guest: GNU tar (run by the command runner) writes the
 * pack and the overlay files straight into `guestShell`, the ssh command that runs the
 * guest script. Nothing is staged on the host beyond the pack of one commit.
 */
export async function sendWorkspace(
  runner: HostRunner,
  repoRoot: string,
  plan: WorkspacePlan,
  guestShell: (script: string) => string[],
  signal?: AbortSignal,
): Promise<SendResult> {
  const started = performance.now();
  if (plan.mode === 'full_copy') return sendFullCopy(runner, repoRoot, plan, guestShell, started, signal);
  const tmp = mkdtempSync(join(tmpdir(), 'banger-ws-'));
  try {
    const meta = join(tmp, META_DIR);
    mkdirSync(meta);
    if (plan.commit) {
      // The commit, its trees and blobs: rev-list names them, pack-objects packs them (reusing deltas).
      const objects = await runner.run(['git', '-C', repoRoot, 'rev-list', '--objects', '--max-count=1', plan.commit], {
        timeoutMs: 300_000,
        maxOutputBytes: 512 * 1024 * 1024,
      });
      await runner.run(['git', '-C', repoRoot, 'pack-objects', '--quiet', join(meta, 'pack')], {
        stdin: objects.stdout,
        timeoutMs: 600_000,
      });
    }
    writeFileSync(join(meta, 'deleted'), plan.deleted.map((p) => `${p}\0`).join(''));
    writeFileSync(join(meta, 'untracked'), plan.untrackedCopied.map((p) => `${p}\0`).join(''));
    const list = join(tmp, 'overlay.list');
    writeFileSync(list, plan.overlay.map((p) => `${p}\0`).join(''));
    const tar = [
      'tar',
      '-c',
      '-f',
      '-',
      '-C',
      tmp,
      META_DIR,
      '-C',
      repoRoot,
      '--null',
      '--verbatim-files-from',
      '-T',
      list,
    ];
    const r = await runner.pipe(tar, guestShell(guestPrepareScript(plan)), {
      timeoutMs: 1_800_000,
      ...(signal && { signal }),
    });
    return {
      bytes: r.bytes,
      ms: Math.round(performance.now() - started),
      guestHead: r.consumer.stdout.trim().split('\n').pop() ?? '',
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `--mode full_copy`: the directory as it is, one tar stream of everything under it. */
async function sendFullCopy(
  runner: HostRunner,
  repoRoot: string,
  plan: WorkspacePlan,
  guestShell: (script: string) => string[],
  started: number,
  signal?: AbortSignal,
): Promise<SendResult> {
  const r = await runner.pipe(['tar', '-c', '-f', '-', '-C', repoRoot, '.'], guestShell(guestFullCopyScript(plan)), {
    timeoutMs: 1_800_000,
    ...(signal && { signal }),
  });
  return {
    bytes: r.bytes,
    ms: Math.round(performance.now() - started),
    guestHead: r.consumer.stdout.trim().split('\n').pop() ?? '',
  };
}
