/**
 * Process entry of `banger` (bundled as dist/banger.js): the one place in the CLI that sets
 * the process exit code, to what runCli (or reportError) took from the exit table.
 */
import { nativeSqlitePath } from '../buildinfo/index.js';
import { exitCodeOf } from '../model/index.js';
import { setNativeBindingPath } from '../store/index.js';
import { reportError } from './errors.js';
import { runCli } from './main.js';
import { terminalOutput } from './output.js';

// The bundle carries its SQLite addon beside it (doctor opens the store read-only).
setNativeBindingPath(nativeSqlitePath());
process.on('SIGINT', () => {
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
