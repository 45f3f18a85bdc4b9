import type { Command } from 'commander';
import { formatSize, parseSize, SizeParseError, MIB } from '../../model/index.js';
import type { CliContext } from '../context.js';
import { printJson, paint } from '../output.js';
import { progressPrinter, readyLine } from '../progress.js';
import { runSsh } from '../sshSession.js';
import { usageError } from '../errors.js';
import { commandAfterDashes } from '../argv.js';
import { escapeForTerminal } from '../terminalText.js';
import { dryRun, inWorkspace, registerWorkspaceCommands, workspaceRequest, type WorkspaceCliOptions } from './workspace.js';

interface SpecOptions { name?: string; image?: string; vcpu?: string; memory?: string; diskSize?: string; nat?: boolean; vmm?: string }

const VMM_CHOICES = ['auto', 'firecracker', 'qemu'] as const;

/** Turns --vcpu/--memory/--disk-size into vm.create params; bad values are usage errors. */
export function specParams(o: SpecOptions): { name?: string; image?: string; vcpu?: number; memoryMib?: number; diskSizeBytes?: number; nat?: boolean; vmm?: (typeof VMM_CHOICES)[number] } {
  const out: ReturnType<typeof specParams> = {};
  if (o.nat !== undefined) out.nat = o.nat;
  if (o.vmm !== undefined) {
    const vmm = VMM_CHOICES.find((c) => c === o.vmm);
    if (!vmm) throw usageError(`--vmm ${o.vmm} is not a back-end`, `use one of ${VMM_CHOICES.join(', ')}`);
    out.vmm = vmm;
  }
  if (o.name !== undefined) out.name = o.name;
  if (o.image !== undefined) out.image = o.image;
  if (o.vcpu !== undefined) {
    const n = Number(o.vcpu);
    if (!Number.isInteger(n)) throw usageError(`--vcpu ${o.vcpu} is not a whole number`);
    out.vcpu = n;
  }
  try {
    if (o.memory !== undefined) out.memoryMib = Math.floor(parseSize(o.memory) / MIB);
    if (o.diskSize !== undefined) out.diskSizeBytes = parseSize(o.diskSize);
  } catch (e) {
    if (e instanceof SizeParseError) throw usageError(e.message);
    throw e;
  }
  return out;
}

function addSpecOptions(c: Command): Command {
  return c
    .option('--name <name>', 'VM name (a DNS label); generated when omitted')
    .option('--image <image>', 'image name (default: default_image_name from config)')
    .option('--vcpu <n>', 'virtual CPUs')
    .option('--memory <size>', 'memory, e.g. 2048 (MiB) or 4G')
    .option('--disk-size <size>', 'size of the /root work disk, e.g. 8G')
    .option('--nat', 'let the VM reach the outside (masquerade out of the host uplink); off by default')
    .option('--vmm <kind>', 'back-end: auto (firecracker where it can run, else qemu), firecracker or qemu (default: vmm from config)');
}

/** Runs `fn` for each name concurrently; reports every failure; fails if any failed. */
async function forEachName(ctx: CliContext, names: string[], fn: (name: string) => Promise<string>): Promise<void> {
  const results = await Promise.allSettled(names.map(fn));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  results.forEach((r) => { if (r.status === 'fulfilled') ctx.output.out(`${r.value}\n`); });
  if (failures.length === 1) throw failures[0]!.reason;
  if (failures.length > 1) {
    for (const f of failures.slice(0, -1)) ctx.output.err(`banger: ${escapeForTerminal((f.reason as Error).message)}\n`);
    throw failures.at(-1)!.reason;
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
    if (!last && chunk.endsWith('\r')) { held = '\r'; chunk = chunk.slice(0, -1); }
    const shown = escapeForTerminal(chunk);
    ctx.output.out(shown);
    if (shown !== chunk && !noted) {
      noted = true;
      ctx.output.err(paint(ctx.output, 'yellow', `control characters from the guest console are shown escaped; for the raw log: \`banger vm logs ${name} > FILE\`\n`));
    }
  };
}

export function registerVmLifecycleCommands(vm: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  registerWorkspaceCommands(vm, ctx, isJson);
  addSpecOptions(vm.command('run'))
    .description('create and start a VM, wait until it is ready, then open a shell in it (or run a command and exit with its status); with PATH, a copy of that repository is the working directory')
    .argument('[path]', 'a git repository to copy into /root/repo (tracked files, as in the work tree)')
    .option('--rm', 'delete the VM afterwards (kept when it failed to become ready, for `vm logs`)')
    .option('-d, --detach', 'create, start and prepare, then return without attaching')
    .option('--include-untracked', 'also copy untracked files that are not ignored')
    .option('--dry-run', 'print the files that would be copied and their size; create nothing')
    .option('--branch <name>', "the guest's branch: the host's branch of that name, else a new one (default: the host's current branch)")
    .option('--from <ref>', 'check out this commit, branch or tag instead of HEAD (the work tree is then not copied)')
    .option('--no-bootstrap', 'do not install the tools the repository declares (.mise.toml, .tool-versions)')
    .allowExcessArguments(true)
    .addHelpText('after', '\nExamples:\n  banger vm run                          # a shell in a fresh VM\n  banger vm run --rm -- echo ok          # run a command, exit with its status, delete the VM\n  banger vm run ./repo                   # a shell in /root/repo, a copy of ./repo\n  banger vm run --rm ./repo -- make test # run the tests in a throwaway copy\n  banger vm run ./repo --dry-run         # what would be copied\n  banger vm run --name dev --vcpu 4 --memory 4G\n  banger vm run --nat -- curl -sI https://deb.debian.org\n  banger vm run --vmm qemu -- uname -a')
    .action(async (path: string | undefined, opts: SpecOptions & WorkspaceCliOptions & { rm?: boolean; detach?: boolean }) => {
      const command = commandAfterDashes(ctx.rawArgv);
      // commander also offers the first word after `--` as [path]: a repository is only one given before `--`.
      const dashes = ctx.rawArgv.indexOf('--');
      const repo = path !== undefined && (dashes < 0 ? ctx.rawArgv : ctx.rawArgv.slice(0, dashes)).includes(path) ? path : undefined;
      if (!repo) {
        const stray = (['includeUntracked', 'dryRun', 'branch', 'from'] as const).find((k) => opts[k] !== undefined);
        if (stray) throw usageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs a repository path`, 'e.g. `banger vm run ./repo --dry-run`');
      }
      if (opts.detach && opts.rm) throw usageError('-d/--detach cannot be combined with --rm: a detached VM must outlive this command');
      if (opts.detach && command.length) throw usageError('-d/--detach cannot be combined with a command: the command would need a terminal to report its status to');
      if (repo && opts.dryRun) { await dryRun(ctx, repo, opts); return; }
      const t0 = performance.now();
      const { vm, ssh } = await ctx.daemon.call('vm.create', { ...specParams(opts), start: true, ...(repo && { workspace: workspaceRequest(repo, opts) }) }, { onProgress: progressPrinter(ctx.output) });
      readyLine(ctx.output, performance.now() - t0);
      if (opts.detach) {
        ctx.output.out(`${vm.name}\n`);
        ctx.output.err(paint(ctx.output, 'dim', `vm ${vm.name} is running: \`banger vm ssh ${vm.name}\`${repo ? `, \`banger vm exec ${vm.name} -- CMD\`` : ''}, stop it with \`banger vm stop ${vm.name}\`\n`));
        return;
      }
      // The shell or command talks to the terminal raw, as with ssh: it is the user's own session.
      const result = repo ? await runSsh(ssh, inWorkspace(command), { interactive: command.length === 0 }) : await runSsh(ssh, command);
      if (opts.rm) {
        await ctx.daemon.call('vm.delete', { name: vm.name });
      } else if (command.length === 0) {
        ctx.output.err(paint(ctx.output, 'dim', `vm ${vm.name} is still running (stop it with \`banger vm stop ${vm.name}\`)\n`));
      }
      if (result.error) throw result.error;
      process.exitCode = result.code;
    });

  addSpecOptions(vm.command('create'))
    .description('create a VM and start it (unless --no-start), waiting until it is ready')
    .option('--no-start', 'only create it')
    .addHelpText('after', '\nExamples:\n  banger vm create --name dev\n  banger vm create --name big --vcpu 4 --memory 8G --disk-size 32G --no-start')
    .action(async (opts: SpecOptions & { start: boolean }, cmd: Command) => {
      const t0 = performance.now();
      const { vm } = await ctx.daemon.call('vm.create', { ...specParams(opts), start: opts.start }, { onProgress: progressPrinter(ctx.output) });
      if (opts.start) readyLine(ctx.output, performance.now() - t0);
      if (isJson(cmd)) printJson(ctx.output, vm);
      else ctx.output.out(`${vm.name}\n`);
    });

  for (const [verb, method, what] of [['start', 'vm.start', 'started'], ['stop', 'vm.stop', 'stopped'], ['restart', 'vm.restart', 'restarted']] as const) {
    vm.command(verb)
      .argument('<names...>', 'VM names')
      .description(verb === 'stop' ? 'power VMs off gracefully (hard stop after a timeout); disks are kept' : `${verb} VMs, waiting until each is ready`)
      .addHelpText('after', `\nExample:\n  banger vm ${verb} dev other`)
      .action(async (names: string[]) => {
        await forEachName(ctx, names, async (name) => {
          await ctx.daemon.call(method, { name }, { onProgress: progressPrinter(ctx.output, name) });
          return `${what} ${name}`;
        });
      });
  }

  vm.command('set')
    .argument('<name>', 'VM name')
    .option('--vcpu <n>', 'virtual CPUs')
    .option('--memory <size>', 'memory, e.g. 2048 (MiB) or 4G')
    .option('--disk-size <size>', 'new size of the /root work disk (it can only grow)')
    .option('--nat', 'switch NAT on (applies at once to a running VM)')
    .option('--no-nat', 'switch NAT off (applies at once to a running VM)')
    .description('change the resources of a stopped VM, or its NAT at any time')
    .addHelpText('after', '\nExamples:\n  banger vm stop dev && banger vm set dev --vcpu 4 --memory 8G && banger vm start dev\n  banger vm set dev --nat')
    .action(async (name: string, o: SpecOptions, cmd: Command) => {
      const { vm: v } = await ctx.daemon.call('vm.set', { name, ...specParams(o) }, { onProgress: progressPrinter(ctx.output, name) });
      if (isJson(cmd)) printJson(ctx.output, v);
      else ctx.output.out(`${v.name}: ${v.spec.vcpu} vcpu | ${v.spec.memoryMib} MiB | ${formatSize(v.spec.diskSizeBytes)} disk | NAT ${v.nat ? 'on' : 'off'}\n`);
    });

  vm.command('kill')
    .argument('<names...>', 'VM names')
    .option('--signal <signal>', 'TERM, KILL, INT or HUP', 'KILL')
    .description('signal the VMs\' VMM processes (default KILL); they end up stopped')
    .addHelpText('after', '\nExample:\n  banger vm kill --signal KILL dev')
    .action(async (names: string[], opts: { signal: string }) => {
      const signal = opts.signal.toUpperCase().replace(/^SIG/, '');
      if (!['TERM', 'KILL', 'INT', 'HUP'].includes(signal)) throw usageError(`--signal ${opts.signal} is not one of TERM, KILL, INT, HUP`);
      await forEachName(ctx, names, async (name) => {
        await ctx.daemon.call('vm.kill', { name, signal: signal as 'KILL' });
        return `killed ${name}`;
      });
    });

  vm.command('delete').alias('rm')
    .argument('<names...>', 'VM names')
    .description('stop VMs and remove their disks, tap and pinned host keys')
    .addHelpText('after', '\nExample:\n  banger vm delete dev')
    .action(async (names: string[]) => {
      await forEachName(ctx, names, async (name) => {
        await ctx.daemon.call('vm.delete', { name });
        return `deleted ${name}`;
      });
    });

  vm.command('prune')
    .option('-f, --force', 'do not ask for confirmation')
    .description('delete every VM that is not running')
    .addHelpText('after', '\nExample:\n  banger vm prune -f')
    .action(async (opts: { force?: boolean }) => {
      const { vms } = await ctx.daemon.call('vm.list', {});
      const victims = vms.filter((v) => v.state !== 'running');
      if (victims.length === 0) { ctx.output.out('nothing to prune\n'); return; }
      if (!opts.force) {
        if (!process.stdin.isTTY) throw usageError(`would delete ${victims.length} VM(s): ${victims.map((v) => v.name).join(', ')}`, 'confirm with `banger vm prune -f`');
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(`delete ${victims.length} VM(s): ${victims.map((v) => v.name).join(', ')}? [y/N] `);
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) { ctx.output.out('nothing deleted\n'); return; }
      }
      const { deleted } = await ctx.daemon.call('vm.prune', {});
      ctx.output.out(deleted.length ? `deleted ${deleted.join(', ')}\n` : 'nothing to prune\n');
    });

  vm.command('ssh')
    .argument('<name>', 'VM name')
    .allowExcessArguments(true)
    .description('open a shell in a running VM, or run a command there and exit with its status')
    .addHelpText('after', '\nExamples:\n  banger vm ssh dev\n  banger vm ssh dev -- uname -a')
    .action(async (name: string) => {
      const { vm: v, ssh } = await ctx.daemon.call('vm.ssh_target', { name });
      const command = commandAfterDashes(ctx.rawArgv);
      // Raw, as with ssh: the user's own shell or command, on their own terminal.
      const result = await runSsh(ssh, command);
      if (command.length === 0) ctx.output.err(paint(ctx.output, 'dim', `vm ${v.name} is still running (stop it with \`banger vm stop ${v.name}\`)\n`));
      if (result.error) throw result.error;
      process.exitCode = result.code;
    });

  vm.command('logs')
    .argument('<name>', 'VM name')
    .option('-f, --follow', 'keep printing new console output until interrupted')
    .description("print a VM's serial console log")
    .addHelpText('after', '\nExample:\n  banger vm logs dev -f')
    .action(async (name: string, opts: { follow?: boolean }) => {
      const show = consoleShower(ctx, name);
      let offset = 0;
      for (;;) {
        const r = await ctx.daemon.call('vm.logs', { name, offset });
        offset = r.offset;
        show(r.text, !opts.follow);
        if (!opts.follow) return;
        await new Promise((res) => setTimeout(res, 500));
      }
    });
}
