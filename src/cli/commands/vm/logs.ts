/** `banger vm logs NAME [-f]`: a VM's serial console log. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { paint } from '../../output.js';
import { escapeForTerminal } from '../../terminalText.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerLogs(vm: Command, ctx: CliContext): Command {
  return vm
    .command('logs')
    .argument('<name>', 'VM name')
    .option('-f, --follow', 'keep printing new console output until interrupted')
    .description("print a VM's serial console log")
    .addHelpText('after', examples(['banger vm logs dev -f']))
    .action(act(ctx, (name: string, opts: { follow?: boolean }) => showLogs(ctx, name, !!opts.follow)));
}

export async function showLogs(ctx: CliContext, name: string, follow: boolean): Promise<Outcome> {
  const show = consoleShower(ctx, name);
  let offset = 0;
  for (;;) {
    const r = await ctx.daemon.call('vm.logs', { name, offset });
    offset = r.offset;
    show(r.text, !follow);
    if (!follow) return 'ok';
    await new Promise((res) => setTimeout(res, 500));
  }
}

/**
 * How `vm logs` prints the guest's console. Unlike `vm ssh`, this is not a session the user
 * opened but a log the guest wrote, and anything in the guest (a compromised service, a
 * hostile image) can write to its console: on a terminal, control characters are shown as
 * escapes (CRLF line ends, which serial consoles use throughout, are kept), and stderr says
 * so once. Piped or redirected, the log is passed on exactly, colour codes and all.
 */
function consoleShower(ctx: CliContext, name: string): (text: string, last: boolean) => void {
  if (!ctx.output.isTty) return (text) => ctx.output.out(text);
  let held = '';
  let noted = false;
  return (text, last) => {
    let chunk = held + text;
    held = '';
    // A CRLF split across two polls: keep the \r until we see whether \n follows.
    if (!last && chunk.endsWith('\r')) {
      held = '\r';
      chunk = chunk.slice(0, -1);
    }
    const shown = escapeForTerminal(chunk);
    ctx.output.out(shown);
    if (shown !== chunk && !noted) {
      noted = true;
      ctx.output.err(
        paint(
          ctx.output,
          'yellow',
          'control characters from the guest console are shown escaped;' +
            ` for the raw log: \`banger vm logs ${name} > FILE\`\n`,
        ),
      );
    }
  };
}
