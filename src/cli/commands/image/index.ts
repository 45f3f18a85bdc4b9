/** `banger image …`: managed root filesystem images, one verb a file. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { registerCache } from './cachePrune.js';
import { registerDelete } from './delete.js';
import { registerList } from './list.js';
import { registerPull } from './pull.js';
import { registerRegister } from './register.js';
import { registerShow } from './show.js';
import { registerWarm } from './warm.js';

export function registerImageCommands(program: Command, ctx: CliContext): void {
  const image = program.command('image').description('managed root filesystem images');
  for (const register of [
    registerList,
    registerShow,
    registerPull,
    registerDelete,
    registerRegister,
    registerCache,
    registerWarm,
  ]) {
    register(image, ctx);
  }
}
