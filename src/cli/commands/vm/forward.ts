/**
 * `banger vm forward NAME [[LOCAL:]GUEST_PORT...]`: forward guest TCP ports to 127.0.0.1 on
 * this host (a userspace proxy in the daemon; no root, no firewall rule); with no ports, the
 * VM's forwards; with `--remove LOCAL...`, those forwards removed. Also the `vm run -p` side.
 */
import type { Command } from 'commander';
import { parseForwardSpec, type ForwardSpec, type VmForward } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { usageError } from '../../errors.js';
import { paint, printJson, renderTable } from '../../output.js';
import { escapeForTerminalLine } from '../../terminalText.js';
import { act, examples, isJson, type Outcome } from '../verb.js';

const EXAMPLES = [
  'banger vm forward web 8080:80        # http://127.0.0.1:8080 reaches port 80 in web',
  'banger vm forward web 3000 5432      # the same port numbers on both sides',
  'banger vm forward web                # list its forwards',
  'banger vm forward web --remove 8080  # remove one',
  'banger vm run -p 8080:80             # forward while creating a VM',
];

const NOTE =
  'A forward listens on 127.0.0.1 only, while the VM runs; it is kept across stop/start and daemon' +
  ' restarts, and removed with the VM.';

export function registerForward(vm: Command, ctx: CliContext): Command {
  return vm
    .command('forward')
    .argument('<name>', 'VM name')
    .argument('[ports...]', '[LOCAL:]GUEST_PORT to add (LOCAL defaults to GUEST_PORT); with --remove, LOCAL ports')
    .option('--remove', 'remove the forwards on the given local ports')
    .description("forward a VM's TCP ports to 127.0.0.1 on this host, list or remove them")
    .addHelpText('after', examples(EXAMPLES, NOTE))
    .action(
      act(ctx, (name: string, ports: string[], o: { remove?: boolean }, cmd: Command) =>
        forwardVm(ctx, name, ports, !!o.remove, isJson(cmd)),
      ),
    );
}

/** Reads `[LOCAL:]GUEST` words (arguments or `-p` values); a bad one is a usage error naming the field. */
export function forwardSpecsFrom(words: readonly string[]): ForwardSpec[] {
  return words.map((w) => {
    const r = parseForwardSpec(w);
    if ('problem' in r) throw usageError(r.problem, 'a forward is [LOCAL:]GUEST_PORT, e.g. 8080:80 or 3000');
    return r.spec;
  });
}

/** Reads local port words for --remove. */
function localPortsFrom(words: readonly string[]): number[] {
  return words.map((w) => {
    const r = parseForwardSpec(w);
    if ('problem' in r || w.includes(':'))
      throw usageError(`"${w}" is not a local port`, '--remove takes the LOCAL ports, e.g. `--remove 8080`');
    return r.spec.local;
  });
}

/** `127.0.0.1:8080 -> web:80`. */
export function forwardLine(f: Pick<VmForward, 'address' | 'local' | 'vm' | 'guest'>): string {
  return `${f.address}:${f.local} -> ${f.vm}:${f.guest}`;
}

/**
 * A forward's state in words, for `vm forward NAME` and `vm show`. A failure can quote a
 * local program's command line (the port's owner), so callers escape it to one safe line.
 */
export function forwardState(f: Pick<VmForward, 'state' | 'error' | 'vm'>): string {
  if (f.state === 'active') return 'listening';
  if (f.state === 'failed') return `not listening: ${f.error ?? 'unknown error'}`;
  return `listens once ${f.vm} runs`;
}

export async function forwardVm(
  ctx: CliContext,
  name: string,
  ports: string[],
  remove: boolean,
  json: boolean,
): Promise<Outcome> {
  if (remove && ports.length === 0)
    throw usageError('--remove needs the local ports to remove', 'e.g. `banger vm forward web --remove 8080`');
  const { forwards } = remove
    ? await ctx.daemon.call('vm.forward.remove', { name, locals: localPortsFrom(ports) })
    : ports.length
      ? await ctx.daemon.call('vm.forward.add', { name, forwards: forwardSpecsFrom(ports) })
      : await ctx.daemon.call('vm.forward.list', { name });
  if (json) printJson(ctx.output, forwards);
  else if (remove) ctx.output.out(forwards.map((f) => `removed ${forwardLine(f)}\n`).join(''));
  else if (ports.length) ctx.output.out(forwards.map((f) => `${forwardLine(f)}  (${forwardState(f)})\n`).join(''));
  else if (forwards.length === 0)
    ctx.output.out(`VM ${name} has no port forwards: add one with \`banger vm forward ${name} 8080:80\`\n`);
  else
    ctx.output.out(
      renderTable(
        ['FORWARD', 'STATE'],
        forwards.map((f) => [forwardLine(f), escapeForTerminalLine(forwardState(f))]),
      ),
    );
  return 'ok';
}

/**
 * `vm run -p`: the forwards added to the new VM before the shell or command starts, each
 * printed on stderr. When one cannot be had, a `--rm` VM is deleted before the error is reported.
 */
export async function forwardsForRun(
  ctx: CliContext,
  name: string,
  specs: readonly ForwardSpec[],
  rm: boolean,
): Promise<void> {
  if (!specs.length) return;
  try {
    const { forwards } = await ctx.daemon.call('vm.forward.add', { name, forwards: [...specs] });
    ctx.output.err(paint(ctx.output, 'dim', forwards.map((f) => `forwarding ${forwardLine(f)}\n`).join('')));
  } catch (e) {
    if (rm) await ctx.daemon.call('vm.delete', { name }).catch(() => undefined);
    else {
      const words = specs.map((s) => `${s.local}:${s.guest}`).join(' ');
      ctx.output.err(
        `vm ${name} is running without its forwards; add them later: banger vm forward ${name} ${words}\n`,
      );
    }
    throw e;
  }
}
