/**
 * One agent connection per VM, shared by every operation of the process. A QEMU
 * virtio-serial port has one host-side client at a time (the chardev accepts the next
 * connection only when the current one closes), so a connection held by one operation (a
 * command streaming for minutes) would lock every other one (`vm show`, `vm stop`, stats,
 * the readiness wait) out of the agent. Requests on the shared connection are matched by id
 * (client.ts); a closed connection is replaced on the next use.
 */
import { connectAgent, type AgentClient, type AgentEndpoint } from './client.js';

export class AgentHub {
  private readonly conns = new Map<string, Promise<AgentClient>>();

  /** The endpoint's open connection, or a new one (connect within `connectTimeoutMs`). */
  async client(endpoint: AgentEndpoint, connectTimeoutMs = 2_000): Promise<AgentClient> {
    const key = keyOf(endpoint);
    const have = this.conns.get(key);
    if (have) {
      const c = await have.catch(() => null);
      if (c && !c.closed) return c;
      if (this.conns.get(key) === have) this.conns.delete(key);
    }
    const fresh = connectAgent(endpoint, connectTimeoutMs).then((c) => {
      c.unref();
      return c;
    });
    this.conns.set(key, fresh);
    fresh.catch(() => {
      if (this.conns.get(key) === fresh) this.conns.delete(key);
    });
    return fresh;
  }

  /** `withAgent` on the shared connection, which stays open afterwards. */
  async use<T>(endpoint: AgentEndpoint, fn: (c: AgentClient) => Promise<T>, connectTimeoutMs?: number): Promise<T> {
    return fn(await this.client(endpoint, connectTimeoutMs));
  }

  /** Closes and forgets the endpoint's connection (one that stopped answering). */
  drop(endpoint: AgentEndpoint): void {
    const key = keyOf(endpoint);
    const have = this.conns.get(key);
    this.conns.delete(key);
    void have?.then((c) => c.close()).catch(() => {});
  }
}

function keyOf(e: AgentEndpoint): string {
  return e.kind === 'unix' ? e.path : `${e.path}#${e.port}`;
}

/** The process's shared connections (the daemon's `VmEnv.agents`, and `withAgent` for serial ports). */
export const sharedAgents = new AgentHub();

/**
 * One request's worth of agent connection. A serial port (`unix`: QEMU's chardev, one client
 * at a time) goes through the shared connection, which stays open; vsock connections are
 * independent streams, so one is made for the call and closed afterwards.
 */
export async function withAgent<T>(
  endpoint: AgentEndpoint,
  fn: (c: AgentClient) => Promise<T>,
  connectTimeoutMs?: number,
): Promise<T> {
  if (endpoint.kind === 'unix') return sharedAgents.use(endpoint, fn, connectTimeoutMs);
  const c = await connectAgent(endpoint, connectTimeoutMs);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
