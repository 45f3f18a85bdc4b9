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

/** What is held for a handler that has not listened (yet, or ever: most methods read no input). */
const MAX_HELD_BYTES = 8 * 1024 * 1024;

export class ClientInput implements InputChannel {
  private held: ClientMessage[] = [];
  private heldBytes = 0;
  private pausedForHold = false;
  private listener: ((m: ClientMessage) => void) | null = null;

  constructor(private readonly socket: Socket) {}

  /** A line after the request; lines that are no ClientMessage are ignored. */
  push(line: string): void {
    const m = decodeClientMessage(line);
    if (!m) return;
    if (this.listener) return this.listener(m);
    this.held.push(m);
    this.heldBytes += line.length;
    // The handler is not reading (yet): neither is the server, until it does.
    if (this.heldBytes > MAX_HELD_BYTES && !this.pausedForHold) {
      this.pausedForHold = true;
      this.socket.pause();
    }
  }

  listen(fn: (m: ClientMessage) => void): void {
    this.listener = fn;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    const wasPaused = this.pausedForHold;
    this.pausedForHold = false;
    for (const m of held) fn(m);
    if (wasPaused) this.resume();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
