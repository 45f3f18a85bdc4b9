/**
 * `banger system status`: the installed build, and whether the root helper and the daemon
 * run. A component that does not run makes it fail (exit reason `failure`).
 */
import type { Command } from 'commander';
import { systemStatus } from '../../../install/index.js';
import type { CliContext } from '../../context.js';
import { printJson, renderTable } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { systemDeps } from './deps.js';

export function registerStatus(system: Command, ctx: CliContext): Command {
  return system
    .command('status')
    .description('the installed build, and whether the root helper and the daemon run (and under which supervisor)')
    .addHelpText('after', examples(['banger system status --json']))
    .action(act(ctx, (_o: unknown, cmd: Command) => showStatus(ctx, isJson(cmd))));
}

export async function showStatus(ctx: CliContext, json: boolean): Promise<Outcome> {
  const { install, rows } = await systemStatus(systemDeps(ctx));
  if (json) {
    printJson(ctx.output, { install, components: rows });
    return 'ok';
  }
  ctx.output.out(
    `banger ${install.version} (commit ${install.commit}) for ${install.owner} in ${install.prefix};` +
      ` supervisor: ${install.supervisor}\n`,
  );
  const cells = rows.map((r) => [r.component, r.state, r.pid ? String(r.pid) : '-', r.socket, r.detail]);
  ctx.output.out(renderTable(['COMPONENT', 'STATE', 'PID', 'SOCKET', 'SUPERVISED BY'], cells));
  return rows.some((r) => r.state !== 'running') ? 'failure' : 'ok';
}
