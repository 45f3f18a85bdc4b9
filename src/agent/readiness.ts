import { BangerError } from '../model/index.js';
import { sleep } from '../system/index.js';
import { AgentError, connectAgent, type AgentClient, type AgentEndpoint } from './client.js';
import type { AgentHealth } from './protocol.js';

export interface WaitForAgentOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** True once the VMM has exited: stop waiting at once. */
  isDead?: () => boolean;
  /**
   * For images without an agent (a registered rootfs): once this reports the guest
   * reachable another way (sshd answering), wait `graceMs` more for the agent, then give up
   * on it and resolve null instead of failing the boot.
   */
  reachableWithoutAgent?: () => Promise<boolean>;
  graceMs?: number;
  /** Where the connection comes from (default: a new one, closed at the end); one given here stays open. */
  connect?: (timeoutMs: number) => Promise<AgentClient>;
}

/**
 * Readiness (docs/reference/agent.md): resolves with the agent's first `health` answer. One connection is
 * kept while waiting; a request that gets no answer within a second is superseded by the
 * next one (a reply to the old id is ignored), so the wait ends within ~1 s of the agent
 * starting, wherever in the boot that is.
 */
export async function waitForAgent(endpoint: AgentEndpoint, o: WaitForAgentOptions): Promise<AgentHealth | null> {
  const deadline = Date.now() + o.timeoutMs;
  let client: AgentClient | null = null;
  let reachableSince: number | null = null;
  try {
    for (;;) {
      if (o.signal?.aborted) throw new BangerError('interrupted', 'cancelled while waiting for the guest');
      if (o.isDead?.())
        throw new BangerError('operation_failed', 'the VM exited while booting', { hint: 'see `banger vm logs NAME`' });
      if (Date.now() > deadline) {
        throw new BangerError(
          'operation_failed',
          `the guest agent did not answer within ${Math.round(o.timeoutMs / 1000)} s`,
          { hint: 'see `banger vm logs NAME` for its console' },
        );
      }
      if (!client) {
        try {
          client = await (o.connect ? o.connect(1_000) : connectAgent(endpoint, 1_000));
        } catch {
          await sleep(100); // the VMM has not created the socket yet
          continue;
        }
      }
      try {
        return await client.health(1_000);
      } catch (e) {
        if (!(e instanceof AgentError)) throw e;
        if (e.code === 'transport') {
          client.close();
          client = null;
          await sleep(100);
        } else if (e.code !== 'timeout') {
          // It answered, but not with health: an agent this host cannot talk to.
          throw new BangerError('operation_failed', `the guest agent refused health: ${e.code}: ${e.message}`, {
            hint: 'the image carries an incompatible banger-agent; rebuild it with `banger image pull NAME`',
          });
        }
      }
      if (o.reachableWithoutAgent && (await o.reachableWithoutAgent())) {
        reachableSince ??= Date.now();
        if (Date.now() - reachableSince >= (o.graceMs ?? 15_000)) return null;
      }
    }
  } finally {
    if (!o.connect) client?.close();
  }
}
