/** `banger vm kill NAME...`: signal the VMs' VMM processes (default KILL). */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { usageError } from '../../errors.js';
import { act, examples, type Outcome } from '../verb.js';
import { forEachName } from './names.js';

const SIGNALS = ['TERM', 'KILL', 'INT', 'HUP'] as const;

export function registerKill(vm: Command, ctx: CliContext): Command {
  return vm
    .command('kill')
    .argument('<names...>', 'VM names')
    .option('--signal <signal>', 'TERM, KILL, INT or HUP', 'KILL')
    .description("signal the VMs' VMM processes (default KILL); they end up stopped")
    .addHelpText('after', examples(['banger vm kill --signal KILL dev']))
    .action(act(ctx, (names: string[], opts: { signal: string }) => killVms(ctx, names, opts.signal)));
}

export function killVms(ctx: CliContext, names: readonly string[], signalOption: string): Promise<Outcome> {
  const signal = SIGNALS.find((s) => s === signalOption.toUpperCase().replace(/^SIG/, ''));
  if (!signal) throw usageError(`--signal ${signalOption} is not one of TERM, KILL, INT, HUP`);
  return forEachName(ctx, names, async (name) => {
    await ctx.daemon.call('vm.kill', { name, signal });
    return `killed ${name}`;
  });
}
