import { parse, stringify } from 'smol-toml';
import { DEFAULT_BRIDGE_NAME } from '../model/index.js';

/**
 * /etc/banger/install.toml: who owns the install, which build it is, and the host-wide
 * network values the root helper pins (root-owned, 0644; only `system install` writes it).
 */
export interface InstallRecord {
  owner: string;
  owner_uid: number;
  owner_gid: number;
  home: string;
  prefix: string;
  version: string;
  commit: string;
  built_at: string;
  installed_at: string;
  /** "systemd" or "fallback" (no systemd as PID 1: detached processes with pid files). */
  supervisor: 'systemd' | 'fallback';
  /** /dev/net/tun's mode before install opened it to 0666 (restored by uninstall). */
  tun_mode_before?: number;
  /**
   * The bridge the helper may create and attach taps to, its address and prefix: read from
   * the owner's config at install time and pinned here, so the owner cannot later ask root
   * for another name or subnet. Absent in installs made before these were recorded: the
   * defaults (br-fc, 172.16.0.1/24).
   */
  bridge_name?: string;
  bridge_ip?: string;
  cidr?: number;
}

/** The values an install made before they were recorded pins (the config defaults). */
export const DEFAULT_PINNED_NETWORK = { bridge_name: DEFAULT_BRIDGE_NAME, bridge_ip: '172.16.0.1', cidr: 24 } as const;

export function renderInstallToml(r: InstallRecord): string {
  return `# Written by \`banger system install\`.\n${stringify(r)}\n`;
}

export function parseInstallToml(text: string): InstallRecord {
  const v = parse(text) as unknown as InstallRecord;
  if (typeof v.owner !== 'string' || typeof v.owner_uid !== 'number' || typeof v.prefix !== 'string')
    throw new Error('install.toml lacks owner, owner_uid or prefix');
  return v;
}
