import { mkdirSync, rmSync } from 'node:fs';
import type { CreateStep } from './state.js';

/** The VM's private directory. Undo: it is removed with everything made in it. */
export const vmDirMake: CreateStep = {
  name: 'vmDirMake',
  async run(s, _ctx, undo) {
    mkdirSync(s.files.dir, { recursive: true, mode: 0o700 });
    undo.push('remove VM directory', () => rmSync(s.files.dir, { recursive: true, force: true }));
  },
};
