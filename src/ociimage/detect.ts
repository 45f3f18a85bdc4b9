/**
 * What a flattened OCI image is, read from its tree without running anything in it: its
 * distribution (/etc/os-release), how it boots (systemd, another init, or none), whether it
 * has sshd, and which package manager `--install-sshd` would use. The tree is reached
 * through a probe that resolves symlinks inside the image only (src/imagefs), so a hostile
 * image cannot point detection at host files.
 */
import type { ImageOci, PackageManager } from '../model/index.js';

export interface TreeProbe {
  /** File content after resolving symlinks inside the image; null when absent or not a file. */
  read(path: string): Buffer | null;
  kind(path: string): 'file' | 'dir' | 'symlink' | 'other' | null;
}

export interface DetectedImage {
  os: string | null;
  osId: string | null;
  osLike: string[];
  init: ImageOci['init'];
  initPath: string | null;
  sshd: boolean;
  packageManager: PackageManager | null;
}

/** The program each package manager is found by, in the order they are tried when os-release does not decide. */
const PACKAGE_MANAGER_BINARIES: ReadonlyArray<[PackageManager, string[]]> = [
  ['apt', ['/usr/bin/apt-get']],
  ['apk', ['/sbin/apk', '/usr/sbin/apk', '/bin/apk']],
  ['dnf', ['/usr/bin/dnf', '/usr/bin/dnf5']],
  ['yum', ['/usr/bin/yum']],
  ['pacman', ['/usr/bin/pacman']],
  ['zypper', ['/usr/bin/zypper']],
];

/** os-release IDs (ID or ID_LIKE) and their package manager. */
const PACKAGE_MANAGER_BY_OS: Readonly<Record<string, PackageManager>> = {
  debian: 'apt',
  ubuntu: 'apt',
  alpine: 'apk',
  fedora: 'dnf',
  rhel: 'dnf',
  centos: 'dnf',
  rocky: 'dnf',
  almalinux: 'dnf',
  arch: 'pacman',
  opensuse: 'zypper',
  suse: 'zypper',
  sles: 'zypper',
};

const SYSTEMD_BINARIES = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd'];
const INIT_CANDIDATES = ['/sbin/init', '/usr/sbin/init', '/bin/init'];

/** KEY=value lines of an os-release file (quotes removed); unknown syntax is ignored. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

export function detectImage(probe: TreeProbe): DetectedImage {
  const osText = probe.read('/etc/os-release') ?? probe.read('/usr/lib/os-release');
  const os = osText ? parseOsRelease(osText.toString('utf8')) : {};
  // The image wrote these: only plain IDs are kept, and the name loses control characters
  // (`image list` prints the distribution on the user's terminal).
  const osId = plainId(os.ID);
  const osLike = (os.ID_LIKE ?? '')
    .split(/\s+/)
    .map(plainId)
    .filter((x): x is string => x !== null);
  const { init, initPath } = detectInit(probe);
  return {
    os: printable(os.PRETTY_NAME ?? (os.NAME ? `${os.NAME} ${os.VERSION_ID ?? ''}`.trim() : null)),
    osId,
    osLike,
    init,
    initPath,
    sshd: ['/usr/sbin/sshd', '/usr/bin/sshd', '/sbin/sshd'].some((p) => probe.kind(p) === 'file'),
    packageManager: detectPackageManager(probe, osId, osLike),
  };
}

function plainId(id: string | undefined): string | null {
  const v = id?.toLowerCase();
  return v && /^[a-z0-9._-]{1,64}$/.test(v) ? v : null;
}

function printable(s: string | null): string | null {
  const v = s?.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, 200);
  return v ? v : null;
}

/**
 * systemd when the image's init is systemd itself (the same bytes as systemd's binary: on
 * Debian, Ubuntu and Fedora /sbin/init is a link to it); another init when one of the
 * usual init paths is a file; none otherwise (an application image).
 */
function detectInit(probe: TreeProbe): { init: ImageOci['init']; initPath: string | null } {
  const initPath = INIT_CANDIDATES.find((p) => probe.kind(p) === 'file') ?? null;
  if (!initPath) return { init: 'none', initPath: null };
  const init = probe.read(initPath);
  const isSystemd = SYSTEMD_BINARIES.some((p) => {
    const systemd = probe.read(p);
    return systemd !== null && init !== null && systemd.equals(init);
  });
  return { init: isSystemd ? 'systemd' : 'other', initPath };
}

function detectPackageManager(probe: TreeProbe, osId: string | null, osLike: string[]): PackageManager | null {
  const has = (pm: PackageManager) =>
    PACKAGE_MANAGER_BINARIES.find(([p]) => p === pm)![1].some((b) => probe.kind(b) === 'file');
  for (const id of [osId, ...osLike]) {
    const pm = id ? PACKAGE_MANAGER_BY_OS[id] : undefined;
    if (pm && has(pm)) return pm;
  }
  return PACKAGE_MANAGER_BINARIES.find(([pm]) => has(pm))?.[0] ?? null;
}
