import { waitForTcp } from '../../../guest/index.js';
import { BangerError, GUEST_READY_BUDGET_MS } from '../../../model/index.js';
import { sshdEnsureScript } from '../../../ociimage/index.js';
import { need } from './step.js';
import type { StartStep } from './state.js';

/** Installing openssh-server over a slow mirror under emulation can take minutes. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/**
 * For an image pulled with --install-sshd: installs openssh-server through the image's
 * package manager on the first boot (through the agent; it needs the VM's NAT), starts
 * sshd on every boot when nothing else does, then waits for it when the caller wants ssh.
 * Nothing to undo: what was installed belongs to the VM's disk.
 */
export const sshdEnsure: StartStep = {
  name: 'sshdEnsure',
  async run(s, ctx) {
    const oci = s.image.oci;
    if (!oci?.installSshd || !oci.packageManager) return;
    const vmm = need(s.vmm, 'the VMM', this.name);
    ctx.progress?.('sshd', `ensuring openssh-server (${oci.packageManager}); the first boot installs it`);
    const client = await s.env.agents.client(s.driver.agentEndpoint(s.files), 5_000);
    const r = await client.exec({
      argv: ['/bin/sh', '-c', sshdEnsureScript(oci.packageManager)],
      timeout_ms: INSTALL_TIMEOUT_MS,
    });
    if (r.exit_code !== 0 || r.timed_out)
      throw new BangerError(
        'operation_failed',
        `VM ${s.vm.name}: installing openssh-server failed (exit ${r.exit_code})`,
        {
          hint: `${r.stderr.trim().split('\n').slice(-3).join('\n') || r.stdout.trim().split('\n').slice(-3).join('\n')}\nthe VM needs outbound NAT (--nat) and a reachable package mirror`,
        },
      );
    if (s.wantSsh)
      await waitForTcp(s.vm.guestIp!, 22, GUEST_READY_BUDGET_MS, ctx.signal, () => !s.driver.owns(vmm.pid, s.files));
  },
};
