/** `banger version`: version, commit and build date (with `--json`, also the Node runtime it runs on). */
import type { Command } from 'commander';
import { buildInfo, versionLine } from '../../buildinfo/index.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';
import { act, examples, isJson, type Outcome } from './verb.js';

export function registerVersion(program: Command, ctx: CliContext): Command {
  return program
    .command('version')
    .description('print version, commit and build date')
    .addHelpText('after', examples(['banger version', 'banger version --json']))
    .action(act(ctx, (_o: unknown, cmd: Command) => showVersion(ctx, isJson(cmd))));
}

export function showVersion(ctx: CliContext, json: boolean): Outcome {
  // `node`: the runtime this banger runs on (a release's own, under its install, or the host's).
  if (json)
    printJson(ctx.output, {
      version: buildInfo.version,
      commit: buildInfo.commit,
      builtAt: buildInfo.builtAt,
      node: { version: process.version, path: process.execPath },
    });
  else ctx.output.out(`${versionLine('banger')}\n`);
  return 'ok';
}
