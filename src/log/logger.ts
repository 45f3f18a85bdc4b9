/**
 * The daemon's log: one JSON object per line with ts, level, msg and op_id (docs/reference/rpc.md:
 * every RPC gets an op_id that is on every line logged for it). Lines outside any RPC
 * carry the daemon's own lifecycle op_id. Logs are not progress: progress goes to the
 * client over RPC, logs go here.
 */
import type { Writable } from 'node:stream';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line also carries `fields` (typically `{ op_id }`). */
  child(fields: Record<string, unknown>): Logger;
}

export class JsonLogger implements Logger {
  constructor(
    private readonly out: Writable,
    private readonly level: Level,
    private readonly base: Record<string, unknown>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private write(level: Level, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < RANK[this.level]) return;
    const line: Record<string, unknown> = { ts: this.now().toISOString(), level, msg, ...this.base, ...fields };
    for (const [k, v] of Object.entries(line)) if (v instanceof Error) line[k] = v.message;
    this.out.write(`${JSON.stringify(line)}\n`);
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger(this.out, this.level, { ...this.base, ...fields }, this.now);
  }
}

/** A logger that drops everything; for pure unit tests of code that takes a Logger. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
