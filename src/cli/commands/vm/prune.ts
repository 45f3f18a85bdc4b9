/** `banger vm prune`: delete every VM that is not running, after asking (or with -f). */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { usageError } from '../../errors.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerPrune(vm: Command, ctx: CliContext): Command {
  return vm
    .command('prune')
    .option('-f, --force', 'do not ask for confirmation')
    .description('delete every VM that is not running')
    .addHelpText('after', examples(['banger vm prune -f']))
    .action(act(ctx, (opts: { force?: boolean }) => pruneVms(ctx, !!opts.force)));
}

export async function pruneVms(ctx: CliContext, force: boolean): Promise<Outcome> {
  const { vms } = await ctx.daemon.call('vm.list', {});
  const victims = vms.filter((v) => v.state !== 'running').map((v) => v.name);
  if (victims.length === 0) {
    ctx.output.out('nothing to prune\n');
    return 'ok';
  }
  if (!force && !(await confirm(victims))) {
    ctx.output.out('nothing deleted\n');
    return 'ok';
  }
  const { deleted } = await ctx.daemon.call('vm.prune', {});
  ctx.output.out(deleted.length ? `deleted ${deleted.join(', ')}\n` : 'nothing to prune\n');
  return 'ok';
}

/** Asks on the terminal; without one, the question is a usage error naming the way to confirm. */
async function confirm(victims: readonly string[]): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw usageError(
      `would delete ${victims.length} VM(s): ${victims.join(', ')}`,
      'confirm with `banger vm prune -f`',
    );
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`delete ${victims.length} VM(s): ${victims.join(', ')}? [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
