import { writeWorkDiskFiles, type WorkDiskFile } from '../../../vmdisk/index.js';
import type { OpCtx } from '../../../opctx/index.js';
import { planFileSync, readFileSyncItems, renderGitConfig } from '../../../workspace/index.js';
import type { VmServiceDeps } from '../types.js';
import type { StartStep } from './state.js';

/**
 * What the host puts into a guest's /root at every start: `[[file_sync]]` and the host's
 * global git identity (/.gitconfig), with paths relative to /root. Missing host paths are
 * warnings (progress and log).
 */
export async function hostFilesForGuest(d: VmServiceDeps, ctx: OpCtx, vmName: string): Promise<WorkDiskFile[]> {
  const plan = planFileSync(d.config.file_sync);
  for (const w of plan.warnings) {
    ctx.progress?.('file_sync', w);
    d.log.warn(w, { op_id: ctx.opId, vm: vmName });
  }
  const files: WorkDiskFile[] = readFileSyncItems(plan);
  // One git call for both keys ("user.name Ada\nuser.email ada@…"; exit 1 when neither is set).
  const r = await d.runner
    .run(['git', 'config', '--global', '--get-regexp', '^user\\.(name|email)$'], { allowFailure: true })
    .catch(() => null);
  const identity = new Map(
    (r?.stdout ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1).trim()]),
  );
  const gitconfig = renderGitConfig({
    name: identity.get('user.name') || null,
    email: identity.get('user.email') || null,
  });
  if (gitconfig) files.push({ path: '/.gitconfig', content: gitconfig, mode: 0o644 });
  return files;
}

/**
 * hostFilesForGuest written into the stopped VM's work disk at every start. No undo: the
 * files are the host's current ones and are written again at the next start. (A warm start
 * has the agent write them instead: guestIdentity.)
 */
export const filesSync: StartStep = {
  name: 'filesSync',
  async run(s, ctx) {
    const files = await hostFilesForGuest(s.env.d, ctx, s.vm.name);
    if (files.length === 0) return;
    ctx.progress?.('file_sync', `${files.length} file(s) into /root`);
    await writeWorkDiskFiles(s.env.d.runner, s.files.workDisk, files);
  },
};
