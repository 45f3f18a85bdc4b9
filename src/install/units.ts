/**
 * The two systemd units of a system install (SPEC 2), as pure functions of where the
 * install lives and who owns it. The directives that keep VMs alive across restarts and
 * updates are here: KillMode=process (only the main process is stopped, never the VMMs it
 * started in their own sessions), RuntimeDirectoryPreserve=yes (sockets and pid files of
 * running VMs survive a stop), SendSIGKILL=no on the helper.
 */
export interface UnitInput {
  /** Absolute path of node (>= 20). */
  node: string;
  /** The installed bundle, through the `current` symlink (so an update is a symlink flip). */
  libDir: string;
  owner: string;
}

export const DAEMON_UNIT = 'bangerd.service';
export const HELPER_UNIT = 'bangerd-root.service';

/** The capabilities the helper's operations use, and no others. */
export const HELPER_CAPABILITIES = [
  'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_MKNOD', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_CHROOT',
] as const;

export function renderDaemonUnit(i: UnitInput): string {
  return [
    '# Written by `banger system install`; `banger system uninstall` removes it.',
    '[Unit]',
    `Description=banger daemon (sandbox VMs of ${i.owner})`,
    `Wants=${HELPER_UNIT}`,
    `After=network.target ${HELPER_UNIT}`,
    '',
    '[Service]',
    'Type=simple',
    `User=${i.owner}`,
    'Environment=BANGER_MODE=system',
    `ExecStart=${i.node} ${i.libDir}/bangerd.js --system`,
    'Restart=on-failure',
    'RestartSec=1',
    // Stop only bangerd itself: its VMMs run in their own sessions and must keep running.
    'KillMode=process',
    'RuntimeDirectory=banger',
    'RuntimeDirectoryMode=0700',
    'RuntimeDirectoryPreserve=yes',
    'StateDirectory=banger',
    'StateDirectoryMode=0700',
    'CacheDirectory=banger',
    'CacheDirectoryMode=0700',
    // The .vm DNS server answers guests on the bridge address, port 53.
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function renderHelperUnit(i: UnitInput): string {
  return [
    '# Written by `banger system install`; `banger system uninstall` removes it.',
    '[Unit]',
    'Description=banger root helper (validated privileged operations for bangerd)',
    `Before=${DAEMON_UNIT}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${i.node} ${i.libDir}/banger-root-helper.js`,
    'Restart=on-failure',
    'RestartSec=1',
    'KillMode=process',
    // Never SIGKILL the helper mid-operation (a half-applied nft script, a half-written disk).
    'SendSIGKILL=no',
    'RuntimeDirectory=banger-root',
    'RuntimeDirectoryMode=0711',
    'RuntimeDirectoryPreserve=yes',
    `CapabilityBoundingSet=${HELPER_CAPABILITIES.join(' ')}`,
    'LockPersonality=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_VSOCK',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictRealtime=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
