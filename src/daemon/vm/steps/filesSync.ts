import { writeWorkDiskFiles } from '../../../vmdisk/index.js';
import { planFileSync, readFileSyncItems, renderGitConfig } from '../../../workspace/index.js';
import type { StartStep } from './state.js';

/**
 * `[[file_sync]]` and the host's global git identity (/root/.gitconfig), written into the
 * stopped VM's work disk at every start. Missing host paths are warnings. No undo: the
 * files are the host's current ones and are written again at the next start.
 */
export const filesSync: StartStep = {
  name: 'filesSync',
  async run(s, ctx) {
    const { d } = s.env;
    const plan = planFileSync(d.config.file_sync);
    for (const w of plan.warnings) {
      ctx.progress?.('file_sync', w);
      d.log.warn(w, { op_id: ctx.opId, vm: s.vm.name });
    }
    const files: Array<{ path: string; content: string | Buffer; mode: number }> = readFileSyncItems(plan);
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
    if (files.length === 0) return;
    ctx.progress?.('file_sync', `${files.length} file(s) into /root`);
    await writeWorkDiskFiles(d.runner, s.files.workDisk, files);
  },
};
