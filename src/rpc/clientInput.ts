/**
 * The lines a client sends after its request (docs/reference/rpc.md): stdin and signals for
 * a guest command. They are held until the handler listens, and the socket is paused while
 * the handler cannot take more (backpressure from the guest back to the client).
 */
import type { Socket } from 'node:net';
import { decodeClientMessage, type ClientMessage } from './protocol.js';

export interface InputChannel {
  /** Delivers the client's messages, those held so far first. One listener. */
  listen(fn: (m: ClientMessage) => void): void;
  /** Stops reading from the client until resume(). */
  pause(): void;
  resume(): void;
}

export class ClientInput implements InputChannel {
  private held: ClientMessage[] = [];
  private listener: ((m: ClientMessage) => void) | null = null;

  constructor(private readonly socket: Socket) {}

  /** A line after the request; lines that are no ClientMessage are ignored. */
  push(line: string): void {
    const m = decodeClientMessage(line);
    if (!m) return;
    if (this.listener) this.listener(m);
    else this.held.push(m);
  }

  listen(fn: (m: ClientMessage) => void): void {
    this.listener = fn;
    const held = this.held;
    this.held = [];
    for (const m of held) fn(m);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
