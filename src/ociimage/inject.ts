/**
 * What banger adds to a pulled image so that it boots under banger and the host can reach
 * it (docs/howto/images.md), as data: `planInjection` decides, the importer writes it into
 * the tree (owned root:root) before the ext4 is made, and `image show` lists it.
 *
 * - Every image: the static agent at /.banger/agent.
 * - systemd images: the agent as an early unit (like the default image), serial and tty
 *   gettys masked, an empty machine-id (systemd makes one per VM), an fstab that mounts
 *   nothing (the initramfs mounted / and /root), and sshd restricted to the host-pinned key.
 * - Any other init, or none: /.banger/init, which the initramfs runs as PID 1. It starts
 *   the agent, then execs the image's own init named in /.banger/next-init, or, with no
 *   init, stays PID 1 (reaping, powering off on request).
 */
import { agentUnit } from '../imagecat/index.js';
import type { DetectedImage } from './detect.js';

export const INJECTED_AGENT_PATH = '/.banger/agent';
export const INJECTED_INIT_PATH = '/.banger/init';
export const NEXT_INIT_PATH = '/.banger/next-init';

export type Injection =
  | { kind: 'file'; path: string; mode: number; content: string }
  | { kind: 'binary'; path: string; mode: number; source: 'agent' | 'init' }
  | { kind: 'symlink'; path: string; target: string };

/** Units that cost boot time or wait for things banger already did (same reasons as the default image's recipe). */
const SYSTEMD_MASKED = [
  'serial-getty@ttyS0.service',
  'getty@tty1.service',
  'systemd-networkd-wait-online.service',
  'systemd-remount-fs.service',
  'e2scrub_reap.service',
];

const SSHD_DROPIN =
  '# Only the ed25519 key that the host generated and pinned for this VM.\nHostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\n';

export function planInjection(d: DetectedImage): Injection[] {
  const plan: Injection[] = [{ kind: 'binary', path: INJECTED_AGENT_PATH, mode: 0o755, source: 'agent' }];
  if (d.init === 'systemd') {
    plan.push(
      {
        kind: 'file',
        path: '/etc/systemd/system/banger-agent.service',
        mode: 0o644,
        content: agentUnit(INJECTED_AGENT_PATH),
      },
      {
        kind: 'symlink',
        path: '/etc/systemd/system/sysinit.target.wants/banger-agent.service',
        target: '/etc/systemd/system/banger-agent.service',
      },
      ...SYSTEMD_MASKED.map(
        (u): Injection => ({ kind: 'symlink', path: `/etc/systemd/system/${u}`, target: '/dev/null' }),
      ),
      { kind: 'file', path: '/etc/machine-id', mode: 0o444, content: '' },
      { kind: 'file', path: '/etc/fstab', mode: 0o644, content: "# / and /root are mounted by banger's initramfs.\n" },
    );
  } else {
    plan.push({ kind: 'binary', path: INJECTED_INIT_PATH, mode: 0o755, source: 'init' });
    if (d.initPath) plan.push({ kind: 'file', path: NEXT_INIT_PATH, mode: 0o644, content: `${d.initPath}\n` });
  }
  if (d.sshd)
    plan.push({ kind: 'file', path: '/etc/ssh/sshd_config.d/banger.conf', mode: 0o644, content: SSHD_DROPIN });
  return plan;
}

/** How `image show` names each injection. */
export function describeInjection(plan: readonly Injection[]): string[] {
  return plan.map((i) => (i.kind === 'symlink' ? `${i.path} -> ${i.target}` : i.path));
}
