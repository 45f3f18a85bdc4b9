/** `banger dns …`: the .vm DNS server of the daemon. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { registerStatus } from './status.js';

export function registerDnsCommands(program: Command, ctx: CliContext): void {
  const dns = program.command('dns').description('the .vm DNS server of the daemon');
  registerStatus(dns, ctx);
}
