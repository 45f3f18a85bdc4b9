/**
 * The default image, as data: what mmdebstrap installs, which units are masked and why,
 * and which files banger writes into the tree. `applyRecipe` (imageBuilder.ts) carries
 * it out; tests check the data.
 */
export interface ImageRecipe {
  suite: string;
  variant: 'minbase';
  packages: readonly string[];
  /** Units linked to /dev/null, each with the reason it costs more than it gives in a sandbox. */
  masked: ReadonlyArray<{ unit: string; why: string }>;
  files: ReadonlyArray<{ path: string; content: string; mode: number }>;
  symlinks: ReadonlyArray<{ path: string; target: string }>;
  /** Removed from the tree: per-VM identity must never be shared between VMs. */
  remove: readonly string[];
  /** Where the build's static guest agent binary is installed (docs/reference/agent.md); its unit is among `files`. */
  agentPath: string;
}

/**
 * The agent starts as soon as systemd does: / and /root were mounted by the initramfs and
 * it finds its virtio-serial port through sysfs, so it waits for nothing. It is the host's
 * readiness signal, which is why it must not sit behind sysinit.target.
 */
export function agentUnit(agentPath: string): string {
  return [
    '[Unit]',
    'Description=banger guest agent',
    'DefaultDependencies=no',
    'Conflicts=shutdown.target',
    'Before=shutdown.target',
    '',
    '[Service]',
    `ExecStart=${agentPath}`,
    'Restart=always',
    'RestartSec=1',
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n');
}

export const DEBIAN_BOOKWORM_RECIPE: ImageRecipe = {
  suite: 'bookworm',
  variant: 'minbase',
  packages: [
    'systemd',
    'systemd-sysv',
    'dbus',
    'udev',
    'openssh-server',
    'iproute2',
    'ca-certificates',
    'curl',
    'git',
    'jq',
    'sudo',
    'procps',
    'less',
  ],
  masked: [
    {
      unit: 'e2scrub_reap.service',
      why: 'scans for stale e2scrub snapshots; there are none in a VM and it delays boot',
    },
    {
      unit: 'serial-getty@ttyS0.service',
      why: 'a login prompt on the serial console; banger logs in over ssh and the console is a log file',
    },
    { unit: 'getty@tty1.service', why: 'there is no display' },
    {
      unit: 'systemd-networkd-wait-online.service',
      why: 'the network is configured by the initramfs before systemd starts',
    },
    { unit: 'systemd-remount-fs.service', why: 'the root filesystem is already mounted read-write by the initramfs' },
    {
      unit: 'systemd-update-utmp.service',
      why: 'login accounting nobody reads in a sandbox; it sits on the path to sysinit.target',
    },
    {
      unit: 'systemd-sysusers.service',
      why: 'system users were created when the image was built; re-checking them costs ~0.3 s on the path to sysinit.target',
    },
    { unit: 'apt-daily.timer', why: 'background apt downloads compete with the user for a small VM' },
    { unit: 'apt-daily-upgrade.timer', why: 'unattended upgrades must not change a sandbox under the user' },
    { unit: 'dpkg-db-backup.timer', why: 'daily backups of a throwaway system' },
    { unit: 'fstrim.timer', why: 'the disks are sparse files on the host; trimming weekly buys nothing' },
  ],
  files: [
    {
      path: 'etc/systemd/journald.conf.d/banger.conf',
      mode: 0o644,
      content:
        '# Keep the journal in memory: flushing it to disk sits on the boot path.\n[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n',
    },
    {
      path: 'etc/ssh/sshd_config.d/banger.conf',
      mode: 0o644,
      content:
        '# Only the ed25519 key that the host generated and pinned for this VM.\nHostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\n',
    },
    {
      path: 'etc/systemd/system/ssh.service.d/banger.conf',
      mode: 0o644,
      content: [
        '# sshd needs only the local filesystems and its host key (both ready when systemd starts:',
        '# the initramfs mounted / and /root and moved the key in). Without the default',
        '# dependencies it starts beside journald instead of after sysinit.target and',
        '# basic.target, which brings ssh forward by ~1.5 s under emulation.',
        '[Unit]',
        'DefaultDependencies=no',
        'After=local-fs.target',
        'Conflicts=shutdown.target',
        'Before=shutdown.target',
        '',
        "# The image's sshd config is fixed at build time; Debian's `sshd -t` before every start",
        '# is a second sshd launch on the path to a usable VM.',
        '[Service]',
        'ExecStartPre=',
        'ExecStartPre=/bin/mkdir -p /run/sshd',
        '',
      ].join('\n'),
    },
    {
      path: 'etc/systemd/system/banger-hostkeys.service',
      mode: 0o644,
      content:
        '# Fallback for VMs started without a host-provided key (e.g. a registered image).\n# Early like ssh.service, which it precedes.\n[Unit]\nDescription=Generate an SSH host key when the host did not provide one\nDefaultDependencies=no\nAfter=local-fs.target\nBefore=ssh.service\nConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key\n\n[Install]\nWantedBy=ssh.service\n',
    },
    // The work disk is mounted at /root by the initramfs; systemd must not mount it again.
    { path: 'etc/fstab', mode: 0o644, content: "# / and /root are mounted by banger's initramfs.\n" },
    { path: 'etc/banger-image', mode: 0o644, content: 'debian-bookworm\n' },
    { path: 'etc/systemd/system/banger-agent.service', mode: 0o644, content: agentUnit('/usr/local/bin/banger-agent') },
  ],
  symlinks: [
    { path: 'etc/systemd/system/default.target', target: '/lib/systemd/system/multi-user.target' },
    {
      path: 'etc/systemd/system/ssh.service.wants/banger-hostkeys.service',
      target: '/etc/systemd/system/banger-hostkeys.service',
    },
    {
      path: 'etc/systemd/system/sysinit.target.wants/banger-agent.service',
      target: '/etc/systemd/system/banger-agent.service',
    },
  ],
  agentPath: 'usr/local/bin/banger-agent',
  remove: [
    'etc/ssh/ssh_host_rsa_key',
    'etc/ssh/ssh_host_rsa_key.pub',
    'etc/ssh/ssh_host_ecdsa_key',
    'etc/ssh/ssh_host_ecdsa_key.pub',
    'etc/ssh/ssh_host_ed25519_key',
    'etc/ssh/ssh_host_ed25519_key.pub',
  ],
};
