import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { FileSyncEntry } from '../config/index.js';

/**
 * `[[file_sync]]` (docs/reference/config.md, docs/howto/workspaces.md): host files and directories copied into the work disk
 * at every start. Files get `mode` (default 0600), directories are copied recursively;
 * a missing host path is a warning, not an error. Planned from the host's files here;
 * written by the daemon with debugfs.
 */
export interface FileSyncItem {
  /** Path inside the work disk, whose root is the guest's /root. */
  diskPath: string;
  hostPath: string;
  mode: number;
}

export interface FileSyncPlan {
  items: FileSyncItem[];
  warnings: string[];
}

/** Names debugfs's command language cannot carry. */
const UNSAFE_NAME = /[\s"\\]/;

export function planFileSync(entries: readonly FileSyncEntry[]): FileSyncPlan {
  const items: FileSyncItem[] = [];
  const warnings: string[] = [];
  const add = (hostPath: string, guestPath: string, mode: number) => {
    if (UNSAFE_NAME.test(guestPath)) {
      warnings.push(
        `file_sync: skipped ${hostPath}: whitespace, quotes and backslashes are not supported in guest paths`,
      );
      return;
    }
    items.push({ hostPath, diskPath: guestPath.slice('/root'.length), mode });
  };
  const walk = (hostDir: string, guestDir: string, mode: number) => {
    for (const name of readdirSync(hostDir).sort()) {
      const h = join(hostDir, name);
      const st = lstatSync(h);
      if (st.isDirectory()) walk(h, posix.join(guestDir, name), mode);
      else if (st.isFile()) add(h, posix.join(guestDir, name), mode);
      else warnings.push(`file_sync: skipped ${h}: only regular files and directories are copied`);
    }
  };
  for (const e of entries) {
    let st;
    try {
      st = lstatSync(e.host);
    } catch {
      warnings.push(`file_sync: ${e.host} does not exist on the host; skipped`);
      continue;
    }
    const mode = e.mode ?? 0o600;
    if (st.isDirectory()) walk(e.host, e.guest, mode);
    else if (st.isFile()) add(e.host, e.guest, mode);
    else warnings.push(`file_sync: skipped ${e.host}: only regular files and directories are copied`);
  }
  return { items, warnings };
}

/** The work-disk files of a plan, with their content read now. */
export function readFileSyncItems(plan: FileSyncPlan): Array<{ path: string; content: Buffer; mode: number }> {
  return plan.items.map((i) => ({ path: i.diskPath, content: readFileSync(i.hostPath), mode: i.mode }));
}

/** /root/.gitconfig with the host's global git identity (only the keys that are set). */
export function renderGitConfig(identity: { name: string | null; email: string | null }): string | null {
  if (!identity.name && !identity.email) return null;
  const esc = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return [
    "# Written by banger at every start: the host's global git identity.",
    '[user]',
    ...(identity.name ? [`\tname = ${esc(identity.name)}`] : []),
    ...(identity.email ? [`\temail = ${esc(identity.email)}`] : []),
    '',
  ].join('\n');
}
