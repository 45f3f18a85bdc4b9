import type { CreateStep } from './state.js';

/** The VM's row, inserted before the disks: that reserves its name and address. Undo: the row is removed. */
export const recordInsert: CreateStep = {
  name: 'recordInsert',
  async run(s, _ctx, undo) {
    const { vms } = s.env.store;
    vms.insert(s.record);
    undo.push('remove VM record', () => vms.remove(s.record.id));
  },
};
