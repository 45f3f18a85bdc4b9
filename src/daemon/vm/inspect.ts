import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { AgentHealth, AgentListener } from '../../agent/index.js';
import { BangerError, type Vm } from '../../model/index.js';
import type { VmEnv } from './env.js';
import type { VmPort } from './types.js';

export type VmRuntime = {
  pid: number;
  vmm: string;
  status: string;
  startedAt: string;
  tap: string;
  agent: { health: AgentHealth } | { error: string };
};

/** The live side of a VM for `vm show`: VMM pid, how it runs, what the VMM says, and the agent's view. */
export async function runtimeOf(env: VmEnv, vm: Vm): Promise<VmRuntime | null> {
  const h = env.liveHandles(vm);
  if (!h) return null;
  const [status, agent] = await Promise.all([env.driverOf(vm).status(h.pid, env.files(vm)), agentView(env, vm)]);
  return { pid: h.pid, vmm: h.vmm, status, startedAt: h.startedAt, tap: h.tap, agent };
}

/** The agent's view of a running VM (`vm show`), or why there is none. */
export async function agentView(env: VmEnv, vm: Vm): Promise<{ health: AgentHealth } | { error: string }> {
  if (vm.suspended === 'paused') return { error: 'the VM is paused (`banger vm resume` runs it)' };
  return env.agents
    .use(env.driverOf(vm).agentEndpoint(env.files(vm)), async (c) => ({ health: await c.health(2_000) }), 1_000)
    .catch((e: Error) => ({ error: e.message }));
}

/**
 * Listeners in the named running VMs (all running VMs when none are named), from the
 * agent's `ports`, with `name.vm:port` endpoints and an http link for TCP (sshd aside).
 */
export async function portsOf(env: VmEnv, refs: readonly string[]): Promise<VmPort[]> {
  const vms = refs.length ? refs.map((r) => env.show(r)) : env.list().filter((v) => v.state === 'running');
  const out: VmPort[] = [];
  for (const vm of vms) {
    if (!env.isAlive(vm) || vm.suspended === 'paused') {
      if (refs.length) env.requireRunning(vm); // not running, or paused: says which
      continue;
    }
    let listeners: AgentListener[];
    try {
      listeners = await env.agents.use(env.driverOf(vm).agentEndpoint(env.files(vm)), (c) => c.ports(5_000), 2_000);
    } catch (e) {
      throw new BangerError('operation_failed', `VM ${vm.name}: cannot list ports: ${(e as Error).message}`, {
        hint: 'the guest agent is not answering; `banger vm logs ' + vm.name + '` shows the console',
      });
    }
    for (const l of listeners) {
      const loopbackOnly = l.address.startsWith('127.') || l.address === '::1';
      const endpoint = loopbackOnly ? null : `${vm.dnsName}:${l.port}`;
      out.push({
        vm: vm.name,
        ...l,
        endpoint,
        url: endpoint && l.proto.startsWith('tcp') && l.port !== 22 ? `http://${endpoint}/` : null,
      });
    }
  }
  return out.sort((a, b) => a.vm.localeCompare(b.vm) || a.port - b.port || a.proto.localeCompare(b.proto));
}

/** Bytes of the console log from `offset` (for `vm logs` and `vm logs -f`). */
export function logsOf(
  env: VmEnv,
  ref: string,
  offset: number,
  maxBytes = 1 << 20,
): { text: string; offset: number; vmmLog: string } {
  const files = env.files(env.show(ref));
  let text = '';
  let next = offset;
  if (existsSync(files.consoleLog)) {
    const size = statSync(files.consoleLog).size;
    const start = offset > size ? 0 : Math.max(offset, size - maxBytes);
    const len = size - start;
    if (len > 0) {
      const buf = Buffer.alloc(len);
      const fd = openSync(files.consoleLog, 'r');
      try {
        readSync(fd, buf, 0, len, start);
      } finally {
        closeSync(fd);
      }
      text = buf.toString('utf8');
    }
    next = size;
  }
  return { text, offset: next, vmmLog: files.vmmLog };
}
