import { tapNameForVm } from '../../../hostnat/index.js';
import type { StartStep } from './state.js';

/**
 * The pinned network checked, the bridge up (DNS then listens on it), and the VM's tap:
 * a warm one from the pool (whose replacement is made while this VM boots) or a new one.
 * Undo: the tap is deleted.
 */
export const networkUp: StartStep = {
  name: 'networkUp',
  async run(s, ctx, undo) {
    const { d } = s.env;
    await s.env.pinnedNetwork.ensure(ctx);
    await d.privileged.ensureBridge({}, ctx);
    await d.onBridgeReady?.();
    const pooled = d.taps.take();
    if (pooled) void d.taps.refill(ctx); // the replacement is made while this VM boots
    const tap = pooled ?? tapNameForVm(s.vm.id);
    ctx.progress?.('network', `${d.config.bridge_name} and ${tap}${pooled ? ' (warm)' : ''}${s.vm.nat ? ', NAT' : ''}`);
    if (!pooled) await d.privileged.createTap({ name: tap }, ctx);
    undo.push('delete tap', () => d.privileged.deleteTap({ name: tap }, ctx));
    s.tap = { name: tap, pooled: !!pooled };
  },
};
