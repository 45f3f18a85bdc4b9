/** What every command needs; built lazily so `banger --help` touches nothing. */
import { resolveLayout, type Layout } from '../paths/index.js';
import type { Outcome } from './commands/verb.js';
import { DaemonConnection } from './daemonConnection.js';
import type { Output } from './output.js';

export class CliContext {
  private layoutCache: Layout | undefined;
  private connectionCache: DaemonConnection | undefined;

  /** The raw arguments, so commands can find a literal `--` (commander drops it). */
  rawArgv: readonly string[] = [];

  /** What the command that ran returned; the process entry turns it into the exit code. */
  outcome: Outcome = 'ok';

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly output: Output,
  ) {}

  get layout(): Layout {
    return (this.layoutCache ??= resolveLayout(this.env));
  }

  get daemon(): DaemonConnection {
    return (this.connectionCache ??= new DaemonConnection(this.layout, this.env));
  }
}
