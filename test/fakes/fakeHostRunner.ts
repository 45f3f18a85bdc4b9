import {
  CommandError,
  type HostRunner,
  type PipeResult,
  type RunOptions,
  type RunResult,
} from '../../src/system/index.js';

/**
 * A HostRunner for unit tests: records every argv and answers from scripted responses,
 * so tests assert exactly which commands a plan applies. Unscripted commands fail loudly.
 */
export interface ScriptedResponse {
  match: (argv: readonly string[]) => boolean;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export class FakeHostRunner implements HostRunner {
  readonly calls: Array<{ argv: readonly string[]; stdin?: string }> = [];
  private readonly responses: ScriptedResponse[] = [];

  /** Answer commands whose argv starts with `prefix`. Later scripts win. */
  on(prefix: readonly string[], response: Omit<ScriptedResponse, 'match'> = {}): this {
    this.responses.unshift({ match: (a) => prefix.every((p, i) => a[i] === p), ...response });
    return this;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], ...(opts.stdin !== undefined && { stdin: String(opts.stdin) }) });
    const r = this.responses.find((s) => s.match(argv));
    if (!r) throw new Error(`FakeHostRunner: unexpected command ${JSON.stringify(argv)}`);
    const result: RunResult = {
      argv,
      exitCode: r.exitCode ?? 0,
      signal: null,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      durationMs: 0,
    };
    if (result.exitCode !== 0 && !opts.allowFailure)
      throw new CommandError(argv, result.exitCode, result.stderr, `exit code ${result.exitCode}`);
    return result;
  }

  /** A pipe is recorded as its two commands, each answered from the scripts. */
  async pipe(
    producer: readonly string[],
    consumer: readonly string[],
    opts: Omit<RunOptions, 'stdin'> = {},
  ): Promise<PipeResult> {
    const p = await this.run(producer, opts);
    const c = await this.run(consumer, opts);
    return { producer: p, consumer: c, bytes: Buffer.byteLength(p.stdout) };
  }

  argvs(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}
