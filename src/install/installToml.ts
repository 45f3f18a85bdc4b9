import { parse, stringify } from 'smol-toml';

/** /etc/banger/install.toml: who owns the install and which build it is (SPEC 2). */
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
}

export function renderInstallToml(r: InstallRecord): string {
  return `# Written by \`banger system install\`.\n${stringify(r)}\n`;
}

export function parseInstallToml(text: string): InstallRecord {
  const v = parse(text) as unknown as InstallRecord;
  if (typeof v.owner !== 'string' || typeof v.owner_uid !== 'number' || typeof v.prefix !== 'string') throw new Error('install.toml lacks owner, owner_uid or prefix');
  return v;
}
