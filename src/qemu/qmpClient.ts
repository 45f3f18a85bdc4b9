import { connect, type Socket } from 'node:net';
import { onLines } from '../framing/index.js';
import { BangerError } from '../model/index.js';

/** QMP messages are small; a longer line means the peer is not QMP, and the connection is dropped. */
const MAX_QMP_LINE = 16 * 1024 * 1024;

/**
 * A minimal QMP client: connect, read the greeting, negotiate capabilities, then run
 * commands one at a time. Asynchronous events interleaved with replies are skipped.
 */
export class QmpClient {
  private waiters: Array<(msg: Record<string, unknown>) => void> = [];

  private constructor(private readonly socket: Socket) {
    onLines(
      socket,
      MAX_QMP_LINE,
      (raw) => {
        const line = raw.trim();
        if (!line) return;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ('event' in msg) return;
        this.waiters.shift()?.(msg);
      },
      () => socket.destroy(),
    );
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w({ error: { class: 'Closed', desc: 'QMP connection closed' } });
    });
  }

  static async connect(path: string, timeoutMs = 3000): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const t = setTimeout(() => {
        s.destroy();
        reject(new BangerError('operation_failed', `QMP at ${path} did not answer`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new BangerError('operation_failed', `cannot connect to QMP at ${path}: ${e.message}`));
      });
    });
    const client = new QmpClient(socket);
    const greeting = await client.next();
    if (!('QMP' in greeting))
      throw new BangerError('operation_failed', `unexpected QMP greeting: ${JSON.stringify(greeting)}`);
    await client.execute('qmp_capabilities');
    return client;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next();
    this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    const msg = await reply;
    if ('error' in msg) {
      const err = msg.error as { class?: string; desc?: string };
      throw new BangerError('operation_failed', `QMP ${command} failed: ${err.desc ?? err.class}`);
    }
    return msg.return;
  }

  close(): void {
    this.socket.destroy();
  }
}
