/** `banger vm ping NAME...`: a round trip to each VM's guest agent, with its latency. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { escapeForTerminalLine } from '../../terminalText.js';
import { act, examples, isJson, type Outcome } from '../verb.js';

export function registerPing(vm: Command, ctx: CliContext): Command {
  return vm
    .command('ping')
    .argument('<names...>', 'VM names')
    .description("a round trip to each VM's guest agent, with its latency; exits 1 when one does not answer")
    .addHelpText('after', examples(['banger vm ping dev', 'banger vm ping dev web --json']))
    .action(act(ctx, (names: string[], _o: unknown, cmd: Command) => ping(ctx, names, isJson(cmd))));
}

export async function ping(ctx: CliContext, names: string[], json: boolean): Promise<Outcome> {
  const { vms } = await ctx.daemon.call('vm.ping', { names });
  if (json) printJson(ctx.output, vms);
  else
    for (const v of vms) {
      if (v.ok) ctx.output.out(`${v.name}: agent answered in ${v.latencyMs!.toFixed(2)} ms\n`);
      else ctx.output.err(`banger: ${v.name}: ${escapeForTerminalLine(v.error ?? 'no answer')}\n`);
    }
  return vms.every((v) => v.ok) ? 'ok' : 'failure';
}
