import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { AgentClient, AgentIdentityFile, AgentIdentityParams, AgentIdentityStep } from '../../../agent/index.js';
import { ensureClientKey } from '../../../guest/index.js';
import { BangerError } from '../../../model/index.js';
import { hostFilesForGuest } from './filesSync.js';
import { need } from './step.js';
import type { StartState, StartStep } from './state.js';

/** The agent answers within milliseconds; the budget covers an sshd reload in a slow guest. */
const IDENTITY_TIMEOUT_MS = 20_000;

/** The host key pair sshKeysInstall left for a warm VM, with the paths the guest keeps it at. */
function pendingHostKey(s: StartState): AgentIdentityFile[] {
  const dir = s.files.pendingIdentity;
  try {
    return [
      {
        path: '/etc/ssh/ssh_host_ed25519_key',
        mode: 0o600,
        content_b64: readFileSync(`${dir}/ssh_host_ed25519_key`).toString('base64'),
      },
      {
        path: '/etc/ssh/ssh_host_ed25519_key.pub',
        mode: 0o644,
        content_b64: readFileSync(`${dir}/ssh_host_ed25519_key.pub`).toString('base64'),
      },
    ];
  } catch {
    return [];
  }
}

/**
 * What the agent is asked to do to a restored guest (docs/howto/snapshots.md): always its
 * clock stepped to the host's and its random pool reseeded from host entropy, its address
 * announced, and the host's files (`[[file_sync]]`, git identity, the authorised key) put
 * in /root; for a new machine also its hostname, MAC, machine-id and the host key pinned for
 * it, with sshd reloaded to serve that key.
 */
async function identityParams(s: StartState, ctx: Parameters<StartStep['run']>[1]): Promise<AgentIdentityParams> {
  const { d } = s.env;
  const { vm } = s;
  const fresh = need(s.restore, 'the state to restore', 'guestIdentity').identity === 'new';
  const clientKey = await ensureClientKey(d.runner, d.config.ssh_key_path);
  const hostFiles = await hostFilesForGuest(d, ctx, vm.name);
  const hostKey = fresh ? pendingHostKey(s) : [];
  const sshd = !s.image.oci || s.image.oci.sshd || s.image.oci.installSshd;
  return {
    clock_unix_ms: Date.now(),
    entropy_b64: randomBytes(64).toString('base64'),
    ...(fresh && { hostname: vm.name, machine_id: randomBytes(16).toString('hex') }),
    network: { mac: vm.mac!, ip_cidr: `${vm.guestIp}/${d.config.cidr}`, gateway: d.config.bridge_ip },
    files: [
      {
        path: '/root/.ssh/authorized_keys',
        mode: 0o600,
        content_b64: Buffer.from(`${clientKey}\n`).toString('base64'),
      },
      ...hostFiles.map((f) => ({
        path: `/root${f.path}`,
        mode: f.mode,
        content_b64: Buffer.from(f.content).toString('base64'),
      })),
      ...hostKey,
    ],
    // Waited for only when the caller waits for ssh; else reloaded in the background (reloadSshdLater).
    sshd_reload: hostKey.length > 0 && sshd && s.wantSsh,
  };
}

/** The steps `params` asks for, in the names the agent's answer lists them by. */
function askedSteps(params: AgentIdentityParams): AgentIdentityStep[] {
  const steps: Array<[AgentIdentityStep, unknown]> = [
    ['clock', params.clock_unix_ms],
    ['entropy', params.entropy_b64],
    ['hostname', params.hostname],
    ['machine_id', params.machine_id],
    ['network', params.network],
    ['files', params.files],
    ['sshd_reload', params.sshd_reload || undefined],
  ];
  return steps.filter(([, v]) => v !== undefined).map(([name]) => name);
}

/**
 * The new host key served without waiting for it (a start that waits for the agent alone,
 * `vm run -- CMD`): sshd is sent SIGHUP by a command the agent runs in the background, so the
 * restore does not wait the few hundred ms sshd takes to re-exec under emulation.
 */
function reloadSshdLater(client: { exec: AgentClient['exec'] }): void {
  void client
    .exec({
      argv: [
        '/bin/sh',
        '-c',
        'kill -HUP "$(cat /run/sshd.pid 2>/dev/null || cat /var/run/sshd.pid)" 2>/dev/null; true',
      ],
      timeout_ms: 10_000,
    })
    .catch(() => undefined);
}

/**
 * A restored guest made this VM (the agent's `identity`): the clock, entropy, network and
 * files above, before anyone but the host can reach it. A NIC that vmmRestore unplugged is
 * plugged back, and the address announced again from it. The host key's pending copy goes
 * once the guest has it. Nothing to undo: it changed only the guest.
 */
export const guestIdentity: StartStep = {
  name: 'guestIdentity',
  async run(s, ctx) {
    const { vm, files, driver } = s;
    const vmm = need(s.vmm, 'the VMM', this.name);
    ctx.progress?.('identity', `${vm.name}, ${vm.guestIp}, ${vm.mac}`);
    const endpoint = driver.agentEndpoint(files);
    const params = await identityParams(s, ctx);
    const client = await s.env.agents.client(endpoint, 10_000);
    try {
      const { done } = await client.identity(params, IDENTITY_TIMEOUT_MS);
      const missing = askedSteps(params).filter((step) => !done.includes(step));
      if (missing.length) throw new Error(`the agent did not do: ${missing.join(', ')}`);
      if (params.files?.some((f) => f.path.startsWith('/etc/ssh/')) && !params.sshd_reload) reloadSshdLater(client);
      if (s.linkDown) {
        await driver.setLink(vmm.pid, files, true);
        await client.identity({ network: params.network }, IDENTITY_TIMEOUT_MS); // announce from the plugged NIC
      }
    } catch (e) {
      throw new BangerError(
        'operation_failed',
        `VM ${vm.name}: the restored guest did not take its identity: ${(e as Error).message}`,
      );
    }
    rmSync(files.pendingIdentity, { recursive: true, force: true });
  },
};
