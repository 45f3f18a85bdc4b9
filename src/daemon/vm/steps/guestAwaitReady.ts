import { waitForAgent } from '../../../agent/index.js';
import { probeTcp, waitForTcp } from '../../../guest/index.js';
import { BangerError, GUEST_READY_BUDGET_MS } from '../../../model/index.js';
import { readLogTail } from '../../../system/index.js';
import { need } from './step.js';
import type { StartStep } from './state.js';

/** How long a booting guest may take to become ready (TCG guests need ~10 s alone). */
export const READY_TIMEOUT_MS = GUEST_READY_BUDGET_MS;
/** An image without the agent is used anyway once sshd has answered for this long. */
export const NO_AGENT_GRACE_MS = 15_000;

/**
 * The guest ready: its agent healthy (or, for an image without the agent, sshd answering
 * for NO_AGENT_GRACE_MS), then sshd (unless the start was asked for the agent alone). A VMM that dies meanwhile fails at once; a failure
 * carries the console's last lines. Nothing to undo.
 */
export const guestAwaitReady: StartStep = {
  name: 'guestAwaitReady',
  async run(s, ctx) {
    const { vm, files, driver } = s;
    const vmm = need(s.vmm, 'the VMM', this.name);
    const isDead = () => !driver.owns(vmm.pid, files);
    try {
      ctx.progress?.('waiting for agent', 'health');
      const endpoint = driver.agentEndpoint(files);
      const health = await waitForAgent(endpoint, {
        connect: (ms) => s.env.agents.client(endpoint, ms),
        timeoutMs: READY_TIMEOUT_MS,
        signal: ctx.signal,
        isDead,
        reachableWithoutAgent: () => probeTcp(vm.guestIp!, 22, 500),
        graceMs: NO_AGENT_GRACE_MS,
      });
      if (!health)
        s.env.d.log.warn('the guest answers ssh but its agent does not: this image has no banger-agent', {
          op_id: ctx.opId,
          vm: vm.name,
        });
      // Without the agent, sshd is the only way in: it is waited for whatever the caller asked.
      if (s.waitForSsh || !health) {
        ctx.progress?.('waiting for ssh', `${vm.guestIp}:22`);
        await waitForTcp(vm.guestIp!, 22, READY_TIMEOUT_MS, ctx.signal, isDead);
      }
    } catch (e) {
      if (!(e instanceof BangerError) || e.code === 'interrupted') throw e;
      const tail = readLogTail(files.consoleLog, 8);
      throw new BangerError(e.code, `VM ${vm.name}: ${e.message}`, {
        hint: tail
          ? `last console lines (all of them: \`banger vm logs ${vm.name}\`):\n${tail}`
          : `its console is empty; see ${files.vmmLog}`,
      });
    }
  },
};
