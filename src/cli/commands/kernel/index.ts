/** `banger kernel …`: guest kernels, installed ones and the embedded catalog, one verb a file. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { registerImport } from './import.js';
import { registerList } from './list.js';
import { registerPull } from './pull.js';
import { registerRm } from './rm.js';
import { registerShow } from './show.js';

export function registerKernelCommands(program: Command, ctx: CliContext): void {
  const kernel = program.command('kernel').description('guest kernels: installed ones and the embedded catalog');
  for (const register of [registerList, registerShow, registerPull, registerRm, registerImport]) register(kernel, ctx);
}
