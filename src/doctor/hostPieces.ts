/**
 * The host pieces banger runs (docs/howto/troubleshooting.md "Missing host pieces"): one
 * table of every program and file, the Debian package that brings it, and what needs it.
 * The daemon's preflight (before any download or build) and doctor's summary both judge
 * from it, so a host missing several pieces hears of all of them at once, with the one
 * apt command that installs them. Pure but for probeHostPieces.
 */
import { existsSync } from 'node:fs';
import { BangerError } from '../model/index.js';
import { which } from '../system/index.js';

/** What an operation is about to do, each needing its own pieces. */
export const HOST_NEEDS = ['vm', 'qemu', 'nat', 'workspace', 'image-build', 'oci-pull', 'kernel-pull'] as const;
export type HostNeed = (typeof HOST_NEEDS)[number];

export interface HostPiece {
  /** The program looked up on PATH, or the absolute path of a file that must exist. */
  name: string;
  /** The Debian package that installs it. */
  aptPackage: string;
  /** What banger does with it, for the refusal. */
  why: string;
  neededFor: readonly HostNeed[];
}

/** Every host piece, in the order a refusal lists them. */
export const HOST_PIECES: readonly HostPiece[] = [
  { name: 'qemu-system-x86_64', aptPackage: 'qemu-system-x86', why: 'runs the VMs', neededFor: ['qemu'] },
  { name: 'qemu-img', aptPackage: 'qemu-utils', why: 'makes the root disk overlays', neededFor: ['qemu'] },
  { name: 'ip', aptPackage: 'iproute2', why: 'the bridge and the taps', neededFor: ['vm'] },
  {
    name: 'debugfs',
    aptPackage: 'e2fsprogs',
    why: 'writes keys into disks',
    neededFor: ['vm', 'image-build', 'oci-pull'],
  },
  { name: 'resize2fs', aptPackage: 'e2fsprogs', why: 'grows the work disk', neededFor: ['vm'] },
  { name: 'e2fsck', aptPackage: 'e2fsprogs', why: 'checks disks before growing them', neededFor: ['vm'] },
  {
    name: 'mkfs.ext4',
    aptPackage: 'e2fsprogs',
    why: 'builds image filesystems',
    neededFor: ['image-build', 'oci-pull'],
  },
  { name: 'ssh', aptPackage: 'openssh-client', why: 'reaches the guests', neededFor: ['vm'] },
  { name: 'ssh-keygen', aptPackage: 'openssh-client', why: 'makes keys and host keys', neededFor: ['vm'] },
  { name: 'nft', aptPackage: 'nftables', why: 'the NAT rules', neededFor: ['nat'] },
  { name: 'git', aptPackage: 'git', why: 'reads the repository', neededFor: ['workspace'] },
  { name: 'tar', aptPackage: 'tar', why: 'streams the workspace', neededFor: ['workspace'] },
  { name: 'mmdebstrap', aptPackage: 'mmdebstrap', why: 'builds the default image', neededFor: ['image-build'] },
  { name: 'apt-get', aptPackage: 'apt', why: 'downloads the kernel package', neededFor: ['kernel-pull'] },
  { name: 'apt-cache', aptPackage: 'apt', why: 'resolves the kernel package', neededFor: ['kernel-pull'] },
  { name: 'dpkg-deb', aptPackage: 'dpkg', why: 'unpacks the kernel package', neededFor: ['kernel-pull'] },
  { name: 'depmod', aptPackage: 'kmod', why: 'orders the kernel modules', neededFor: ['kernel-pull'] },
  {
    name: '/bin/busybox',
    aptPackage: 'busybox-static',
    why: "the initramfs's shell (static)",
    neededFor: ['kernel-pull'],
  },
];

/** The pieces `needs` call for, in table order. */
export function piecesFor(needs: readonly HostNeed[]): HostPiece[] {
  return HOST_PIECES.filter((p) => p.neededFor.some((n) => needs.includes(n)));
}

export interface PiecesVerdict {
  missing: HostPiece[];
  /** The one command that installs every missing piece; null when nothing is missing. */
  aptCommand: string | null;
}

/** Which of `pieces` are missing (by name, as probeHostPieces found them) and the apt command for all. */
export function judgePieces(pieces: readonly HostPiece[], present: ReadonlySet<string>): PiecesVerdict {
  const missing = pieces.filter((p) => !present.has(p.name));
  const packages = [...new Set(missing.map((p) => p.aptPackage))];
  return { missing, aptCommand: packages.length ? `apt-get install -y ${packages.join(' ')}` : null };
}

/** The refusal of `operation` on a host missing pieces: every one named, one command for all; null when none. */
export function missingPiecesError(operation: string, v: PiecesVerdict): BangerError | null {
  if (!v.aptCommand) return null;
  const list = v.missing.map((p) => `${p.name} (${p.aptPackage}: ${p.why})`).join(', ');
  const n = v.missing.length;
  return new BangerError(
    'operation_failed',
    `${operation} needs ${n} host piece${n > 1 ? 's' : ''} this host lacks: ${list}; nothing was downloaded or built`,
    {
      hint: `install ${n > 1 ? 'them all' : 'it'} with \`sudo ${v.aptCommand}\`, then run it again (\`banger doctor\` checks the host)`,
    },
  );
}

/**
 * Which of `pieces` this host has: programs on `pathEnv` (and /usr/sbin, /sbin), absolute
 * names as files. `overrides` maps a program to the configured path it is used from
 * (qemu_bin).
 */
export function probeHostPieces(
  pieces: readonly HostPiece[],
  pathEnv: string,
  overrides: Readonly<Record<string, string | null>> = {},
): Set<string> {
  const present = new Set<string>();
  for (const p of pieces) {
    const configured = overrides[p.name];
    const found = configured
      ? existsSync(configured)
      : p.name.startsWith('/')
        ? existsSync(p.name)
        : which(p.name, pathEnv) !== null;
    if (found) present.add(p.name);
  }
  return present;
}
