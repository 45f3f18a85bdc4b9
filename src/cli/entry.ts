/**
 * Process entry of `banger` (bundled as dist/banger.js): the one place in the CLI that sets
 * the process exit code, to what runCli (or reportError) took from the exit table.
 */
import { exitCodeOf } from '../model/index.js';
import { reportError } from './errors.js';
import { runCli } from './main.js';
import { terminalOutput } from './output.js';

process.on('SIGINT', () => {
  // A command that forwards Ctrl-C to a guest (vm run -- CMD, vm exec, ssh) has a listener of its own.
  if (process.listenerCount('SIGINT') > 1) return;
  process.stderr.write('\nbanger: interrupted\n');
  process.exit(exitCodeOf('interrupted'));
});
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError(terminalOutput(), e);
  },
);
