import { resolveLayout, type Layout } from '../paths/index.js';
import { DaemonConnection } from './daemonConnection.js';
import type { Output } from './output.js';

/** What every command needs; built lazily so `banger --help` touches nothing. */
export class CliContext {
  private layoutCache: Layout | undefined;
  private connectionCache: DaemonConnection | undefined;

  /** The raw arguments, so commands can find a literal `--` (commander drops it). */
  rawArgv: readonly string[] = [];

  constructor(readonly env: NodeJS.ProcessEnv, readonly output: Output) {}

  get layout(): Layout {
    return (this.layoutCache ??= resolveLayout(this.env));
  }

  get daemon(): DaemonConnection {
    return (this.connectionCache ??= new DaemonConnection(this.layout, this.env));
  }
}
