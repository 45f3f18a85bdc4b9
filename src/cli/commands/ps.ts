/** `banger ps`: every VM, the same as `banger vm list`. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { act, examples, isJson } from './verb.js';
import { listVms } from './vm/list.js';

export function registerPs(program: Command, ctx: CliContext): Command {
  return program
    .command('ps')
    .description('list all VMs (same as `banger vm list`)')
    .addHelpText('after', examples(['banger ps --json']))
    .action(act(ctx, (_opts: unknown, cmd: Command) => listVms(ctx, isJson(cmd))));
}
