import { SSH_CONFIG_BEGIN_MARKER, SSH_CONFIG_END_MARKER } from '../paths/index.js';

/**
 * banger's own ssh config (written by the daemon whenever VMs change) and the
 * marker-fenced Include that `banger ssh-config --install` puts in ~/.ssh/config, so
 * `ssh NAME.vm` works with plain ssh. Pure functions; the callers do the file I/O.
 */
export interface SshConfigVm {
  name: string;
  ip: string | null;
}

export function renderBangerSshConfig(vms: readonly SshConfigVm[], keyPath: string, knownHosts: string): string {
  const lines = ['# Managed by banger: rewritten whenever VMs change. Do not edit.', ''];
  for (const vm of vms) {
    if (!vm.ip) continue;
    lines.push(`Host ${vm.name}.vm`, `  HostName ${vm.ip}`, '');
  }
  lines.push(
    'Host *.vm',
    '  User root',
    `  IdentityFile ${keyPath}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHosts}`,
    // Host keys are pinned by banger before a VM first boots; accept-new only covers
    // VMs made outside banger's knowledge and never accepts a changed key.
    '  StrictHostKeyChecking accept-new',
    '  LogLevel ERROR',
    '',
  );
  return lines.join('\n');
}

export function includeBlock(configPath: string): string {
  return `${SSH_CONFIG_BEGIN_MARKER}\nInclude ${configPath}\n${SSH_CONFIG_END_MARKER}\n`;
}

export function hasInclude(userConfig: string): boolean {
  return userConfig.includes(SSH_CONFIG_BEGIN_MARKER);
}

/**
 * Adds the block at the very top (an Include after a Host line would only apply inside
 * that Host). Idempotent. The block is followed by a blank line that uninstall also
 * removes, so a round trip gives back the same bytes.
 */
export function installInclude(userConfig: string, configPath: string): string {
  if (hasInclude(userConfig)) return userConfig;
  return `${includeBlock(configPath)}\n${userConfig}`;
}

/** Removes exactly what installInclude added (and nothing when it is absent). */
export function uninstallInclude(userConfig: string): string {
  const start = userConfig.indexOf(SSH_CONFIG_BEGIN_MARKER);
  if (start === -1) return userConfig;
  const endMarker = userConfig.indexOf(SSH_CONFIG_END_MARKER, start);
  if (endMarker === -1) return userConfig;
  let end = endMarker + SSH_CONFIG_END_MARKER.length;
  if (userConfig[end] === '\n') end++;
  if (start === 0 && userConfig[end] === '\n') end++;
  return userConfig.slice(0, start) + userConfig.slice(end);
}
