import type { StartStep } from './state.js';

/** NAT rules for a VM that has NAT on. Undo: the rules are removed. */
export const natUp: StartStep = {
  name: 'natUp',
  async run(s, ctx, undo) {
    if (!s.vm.nat) return;
    const { nat } = s.env.d;
    await nat.vmUp({ id: s.vm.id, guestIp: s.vm.guestIp! }, ctx);
    undo.push('remove NAT', () => nat.vmDown(s.vm.id, ctx));
  },
};
