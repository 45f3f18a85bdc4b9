import { Command, CommanderError } from 'commander';
import { buildInfo, versionLine } from '../buildinfo/index.js';
import { BangerError, exitCodeOf } from '../model/index.js';
import { registerDaemonCommands } from './commands/daemon.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerInternalCommands } from './commands/internal.js';
import { registerVmCommands } from './commands/vm.js';
import { registerImageCommands, registerKernelCommands } from './commands/images.js';
import { registerSshConfigCommand } from './commands/sshConfig.js';
import { registerDnsCommands } from './commands/dns.js';
import { registerSystemCommands } from './commands/system.js';
import { registerUpdateCommand } from './commands/update.js';
import { CliContext } from './context.js';
import { reportError } from './errors.js';
import { printJson, terminalOutput, type Output } from './output.js';

/**
 * `banger` entry point: argv -> command table -> RPC client -> render. The only place
 * that decides the process exit code.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('banger')
    .description('one-command development sandboxes on microVMs')
    .option('--json', 'machine-readable output for read commands')
    .version(versionLine('banger'), '-V, --version', 'print version, commit and build date')
    .showSuggestionAfterError(true)
    // Set before any subcommand exists so every command inherits it: commander must throw,
    // never call process.exit, so the exit code always comes from our table.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.output.out(s),
      writeErr: (s) => ctx.output.err(s),
      // Commander's own errors become `banger: …` with a hint, like every other error.
      outputError: (s, write) => write(`banger: ${s.replace(/^error: /, '').trimEnd()}\nhint: run \`banger --help\` (or \`banger <command> --help\`) for usage\n`),
    })
    .addHelpText('after', '\nExamples:\n  banger vm run                 # a shell in a fresh sandbox VM\n  banger vm run --rm -- make    # run a command in a throwaway VM\n  banger vm list\n  banger doctor\n\nExit codes: docs/reference/exit-codes.md');
  const isJson = (cmd: Command) => Boolean(cmd.optsWithGlobals().json);

  program.command('version')
    .description('print version, commit and build date')
    .addHelpText('after', '\nExamples:\n  banger version\n  banger version --json')
    .action((_o, cmd: Command) => {
      if (isJson(cmd)) printJson(ctx.output, { version: buildInfo.version, commit: buildInfo.commit, builtAt: buildInfo.builtAt });
      else ctx.output.out(`${versionLine('banger')}\n`);
    });
  registerVmCommands(program, ctx, isJson);
  registerImageCommands(program, ctx, isJson);
  registerKernelCommands(program, ctx, isJson);
  registerSshConfigCommand(program, ctx);
  registerDnsCommands(program, ctx, isJson);
  registerSystemCommands(program, ctx, isJson);
  registerUpdateCommand(program, ctx);
  registerDaemonCommands(program, ctx, isJson);
  registerDoctorCommand(program, ctx, isJson);
  registerInternalCommands(program, ctx);

  return program;
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, output: Output = terminalOutput(env)): Promise<number> {
  const ctx = new CliContext(env, output);
  ctx.rawArgv = argv;
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with exit code 0; other commander errors are usage errors.
      return e.exitCode === 0 ? 0 : exitCodeOf('usage');
    }
    return reportError(output, e);
  }
}
