/**
 * `banger` entry point: argv -> command table -> RPC client -> render. Each command returns
 * its outcome; runCli is the only place that turns it (or an error) into the exit code,
 * through the one table in model/exitCodes.ts.
 */
import { Command, CommanderError } from 'commander';
import { versionLine } from '../buildinfo/index.js';
import { exitCodeOf } from '../model/index.js';
import { registerCompletionCommands } from './commands/completion/index.js';
import { registerDaemonCommands } from './commands/daemon/index.js';
import { registerDnsCommands } from './commands/dns/index.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerImageCommands } from './commands/image/index.js';
import { registerInternalCommands } from './commands/internal/index.js';
import { registerKernelCommands } from './commands/kernel/index.js';
import { registerPs } from './commands/ps.js';
import { registerSshConfigCommand } from './commands/sshConfig.js';
import { registerSystemCommands } from './commands/system/index.js';
import { registerUpdateCommand } from './commands/update.js';
import { exitCodeFor, examples } from './commands/verb.js';
import { registerVersion } from './commands/version.js';
import { registerVmCommands } from './commands/vm/index.js';
import { CliContext } from './context.js';
import { reportError } from './errors.js';
import { terminalOutput, type Output } from './output.js';

/** The top-level commands, in the order `banger --help` lists them. */
const COMMANDS: ReadonlyArray<(program: Command, ctx: CliContext) => unknown> = [
  registerVersion,
  registerVmCommands,
  registerPs,
  registerImageCommands,
  registerKernelCommands,
  registerSshConfigCommand,
  registerDnsCommands,
  registerSystemCommands,
  registerUpdateCommand,
  registerDaemonCommands,
  registerDoctorCommand,
  registerCompletionCommands,
  registerInternalCommands,
];

const EXAMPLES = [
  'banger vm run                 # a shell in a fresh sandbox VM',
  'banger vm run --rm -- make    # run a command in a throwaway VM',
  'banger vm list',
  'banger doctor',
];

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
      outputError: (s, write) =>
        write(
          `banger: ${s.replace(/^error: /, '').trimEnd()}\n` +
            'hint: run `banger --help` (or `banger <command> --help`) for usage\n',
        ),
    })
    .addHelpText('after', `${examples(EXAMPLES)}\n\nExit codes: docs/reference/exit-codes.md`);
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** Runs one command line and returns the process exit code. */
export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  output: Output = terminalOutput(env),
): Promise<number> {
  const ctx = new CliContext(env, output);
  ctx.rawArgv = argv;
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCodeFor(ctx.outcome);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with exit code 0; other commander errors are usage errors.
      return e.exitCode === 0 ? 0 : exitCodeOf('usage');
    }
    return reportError(output, e);
  }
}
