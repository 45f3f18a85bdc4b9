import type { Config } from '../config/index.js';
import { BangerError } from '../model/index.js';
import type { PrivContext, PrivilegedOps } from '../privops/index.js';

/**
 * The bridge root pins (install.toml) must be the one this daemon's config describes:
 * guests are addressed from the config, the bridge is made from the pin. Checked once per
 * daemon, before the first VM's network comes up, so a config edited after the install
 * fails with what to do instead of booting VMs on a network nobody routes.
 */
export class PinnedNetworkCheck {
  private checked: Promise<void> | null = null;

  constructor(
    private readonly privileged: PrivilegedOps,
    private readonly config: Pick<Config, 'bridge_name' | 'bridge_ip' | 'cidr'>,
  ) {}

  ensure(ctx: PrivContext): Promise<void> {
    this.checked ??= this.check(ctx).catch((e: unknown) => {
      this.checked = null;
      throw e;
    });
    return this.checked;
  }

  private async check(ctx: PrivContext): Promise<void> {
    const pinned = await this.privileged.settings({}, ctx);
    const c = this.config;
    if (pinned.bridgeName === c.bridge_name && pinned.bridgeIp === c.bridge_ip && pinned.cidr === c.cidr) return;
    throw new BangerError(
      'config_invalid',
      `the config's bridge (${c.bridge_name}, ${c.bridge_ip}/${c.cidr}) is not the one root pinned for this install (${pinned.bridgeName}, ${pinned.bridgeIp}/${pinned.cidr})`,
      {
        hint: 'set bridge_name, bridge_ip and cidr back, or pin the new values with `sudo banger system install --owner "$USER"` again',
      },
    );
  }
}
