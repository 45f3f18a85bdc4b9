/**
 * `--install-sshd`: the shell command that installs and starts openssh-server on a VM's
 * first boot, through the image's package manager (detected at pull time from
 * /etc/os-release). It runs in the guest through the agent and needs outbound NAT.
 */
import type { PackageManager } from '../model/index.js';

const INSTALL: Readonly<Record<PackageManager, string>> = {
  apt: 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server',
  apk: 'apk add --no-cache openssh-server',
  dnf: 'dnf install -y -q openssh-server',
  yum: 'yum install -y -q openssh-server',
  pacman: 'pacman -Sy --noconfirm openssh',
  zypper: 'zypper --non-interactive install openssh-server',
};

/** Where sshd may be once installed; the first that exists is started. */
const SSHD_PATHS = ['/usr/sbin/sshd', '/usr/bin/sshd', '/sbin/sshd'];

/**
 * One `sh -c` script: install sshd unless it is there, then start it unless something
 * listens on :22 already (a systemd unit the package enabled). It uses the host key that
 * banger pinned for this VM (moved into /etc/ssh at boot) and root's authorized_keys.
 */
export function sshdEnsureScript(pm: PackageManager): string {
  const find = SSHD_PATHS.map((p) => `[ -x ${p} ] && sshd=${p}`).join(' || ');
  return [
    'set -e',
    `sshd=; ${find} || true`,
    `if [ -z "$sshd" ]; then ${INSTALL[pm]}; sshd=; ${find} || true; fi`,
    '[ -n "$sshd" ] || { echo "openssh-server installed but no sshd found" >&2; exit 1; }',
    'if ! grep -q ":0016 " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then',
    '  mkdir -p /run/sshd /etc/ssh',
    '  [ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key',
    '  "$sshd" -o HostKey=/etc/ssh/ssh_host_ed25519_key -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no',
    'fi',
  ].join('\n');
}
