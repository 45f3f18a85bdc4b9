import { readFileSync } from 'node:fs';
import { planNatDown, planNatUp, uplinkFromRoutes, type NatPlan, type NatStep } from '../hostnat/index.js';
import type { Logger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import type { PrivContext, PrivilegedOps } from '../privops/index.js';
import { writeFileAtomic, type HostRunner } from '../system/index.js';
import { KeyedMutex } from './keyedMutex.js';

export interface NatControllerDeps {
  privileged: PrivilegedOps;
  runner: HostRunner;
  log: Logger;
  bridge: string;
  /** config nat_uplink; undefined: the interface of the default route. */
  uplink: string | undefined;
  /** Remembers across daemon restarts whether banger switched IP forwarding on. */
  stateFile: string;
  ipForwardPath?: string;
}

/**
 * Carries out the NAT plans of hostnat/natPlan.ts: keeps the set of VMs whose NAT is up,
 * reads the host's forwarding state, applies the steps through PrivilegedOps, one change
 * at a time.
 */
export class NatController {
  private readonly up = new Set<string>();
  private readonly mutex = new KeyedMutex();

  constructor(private readonly d: NatControllerDeps) {}

  /** The uplink NAT masquerades out of; a clear error when there is none. */
  async uplink(): Promise<string> {
    if (this.d.uplink) return this.d.uplink;
    const r = await this.d.runner.run(['ip', '-j', 'route', 'show', 'default'], { allowFailure: true });
    const dev = r.exitCode === 0 ? uplinkFromRoutes(r.stdout) : null;
    if (!dev)
      throw new BangerError('operation_failed', 'NAT needs an uplink, and this host has no default route', {
        hint: 'set nat_uplink in the config to the interface that reaches the outside',
      });
    return dev;
  }

  /** VMs found running with NAT at daemon start; their rules are already in place. */
  adopt(vmIds: Iterable<string>): void {
    for (const id of vmIds) this.up.add(id);
  }

  isUp(vmId: string): boolean {
    return this.up.has(vmId);
  }

  async vmUp(vm: { id: string; guestIp: string }, ctx: PrivContext): Promise<void> {
    const uplink = await this.uplink();
    await this.mutex.run('nat', async () => {
      const plan = planNatUp(vm, this.d.bridge, uplink, this.hostState(vm.id));
      await this.apply(plan, ctx);
      this.up.add(vm.id);
    });
  }

  async vmDown(vmId: string, ctx: PrivContext): Promise<void> {
    await this.mutex.run('nat', async () => {
      const plan = planNatDown(vmId, this.hostState(vmId));
      await this.apply(plan, ctx);
      this.up.delete(vmId);
    });
  }

  private hostState(vmId: string) {
    const others = [...this.up].filter((id) => id !== vmId).length;
    let ipForward = false;
    try {
      ipForward = readFileSync(this.d.ipForwardPath ?? '/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1';
    } catch {
      /* treat as off */
    }
    let forwardingIsOurs = false;
    try {
      forwardingIsOurs =
        (JSON.parse(readFileSync(this.d.stateFile, 'utf8')) as { forwardingIsOurs?: boolean }).forwardingIsOurs ===
        true;
    } catch {
      /* none yet */
    }
    return { othersUp: others, ipForward, forwardingIsOurs };
  }

  private async apply(plan: NatPlan, ctx: PrivContext): Promise<void> {
    for (const step of plan.steps) await this.step(step, ctx);
    writeFileAtomic(this.d.stateFile, `${JSON.stringify({ forwardingIsOurs: plan.forwardingIsOurs })}\n`);
  }

  private async step(s: NatStep, ctx: PrivContext): Promise<void> {
    this.d.log.debug('nat step', { op_id: ctx.opId, ...s });
    if (s.op === 'applyNat')
      await this.d.privileged.applyNat({ vmId: s.vmId, guestIp: s.guestIp, uplink: s.uplink }, ctx);
    else if (s.op === 'removeNat') await this.d.privileged.removeNat({ vmId: s.vmId }, ctx);
    else await this.d.privileged.setIpForward({ enabled: s.enabled }, ctx);
  }
}
