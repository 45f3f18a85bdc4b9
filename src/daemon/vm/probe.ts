/**
 * `vm health` and `vm ping`: the agent of each named VM asked directly (on the shared
 * connection), each VM's answer or failure reported on its own so one bad VM does not hide
 * the others.
 */
import type { AgentHealth } from '../../agent/index.js';
import { probeTcp } from '../../guest/index.js';
import type { Vm } from '../../model/index.js';
import type { VmEnv } from './env.js';

export interface VmHealth {
  name: string;
  ok: boolean;
  health: AgentHealth | null;
  /** Whether sshd accepts a TCP connection on port 22. */
  ssh: boolean;
  error: string | null;
}

export interface VmPing {
  name: string;
  ok: boolean;
  /** The agent's round trip (a `health` request), in milliseconds. */
  latencyMs: number | null;
  error: string | null;
}

/** How long one agent may take to answer a probe. */
const PROBE_TIMEOUT_MS = 5_000;

/** Each named VM's agent health and whether its sshd answers. */
export function healthOf(env: VmEnv, names: readonly string[]): Promise<VmHealth[]> {
  const vms = names.map((n) => env.show(n));
  return Promise.all(
    vms.map(async (vm): Promise<VmHealth> => {
      const down = notUp(env, vm);
      if (down) return { name: vm.name, ok: false, health: null, ssh: false, error: down };
      const [agent, ssh] = await Promise.all([
        askHealth(env, vm).then(
          (health) => ({ health, error: null }),
          (e: Error) => ({ health: null, error: `the agent did not answer: ${e.message}` }),
        ),
        vm.guestIp ? probeTcp(vm.guestIp, 22, 2_000) : Promise.resolve(false),
      ]);
      return { name: vm.name, ok: agent.health !== null, ...agent, ssh };
    }),
  );
}

/** Each named VM's agent round trip. */
export function pingOf(env: VmEnv, names: readonly string[]): Promise<VmPing[]> {
  const vms = names.map((n) => env.show(n));
  return Promise.all(
    vms.map(async (vm): Promise<VmPing> => {
      const down = notUp(env, vm);
      if (down) return { name: vm.name, ok: false, latencyMs: null, error: down };
      const endpoint = env.driverOf(vm).agentEndpoint(env.files(vm));
      try {
        const client = await env.agents.client(endpoint, 2_000);
        const t0 = performance.now();
        await client.health(PROBE_TIMEOUT_MS);
        return { name: vm.name, ok: true, latencyMs: Math.round((performance.now() - t0) * 100) / 100, error: null };
      } catch (e) {
        return {
          name: vm.name,
          ok: false,
          latencyMs: null,
          error: `the agent did not answer: ${(e as Error).message}`,
        };
      }
    }),
  );
}

function askHealth(env: VmEnv, vm: Vm): Promise<AgentHealth> {
  return env.agents.use(env.driverOf(vm).agentEndpoint(env.files(vm)), (c) => c.health(PROBE_TIMEOUT_MS), 2_000);
}

function notUp(env: VmEnv, vm: Vm): string | null {
  return vm.state === 'running' && env.isAlive(vm) ? null : `VM ${vm.name} is not running (${vm.state})`;
}
