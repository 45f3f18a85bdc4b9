import type { Command } from 'commander';
import { BangerError } from '../../model/index.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';

/** Hidden maintainer commands (SPEC 3: `banger internal ...`). Not part of the stable CLI. */
export function registerInternalCommands(program: Command, ctx: CliContext): void {
  // Created through program.command() so it inherits exit and output handling.
  const internal = program.command('internal', { hidden: true }).description('maintainer commands (unstable)');
  internal.command('rpc')
    .description('send one raw RPC request and print the result as JSON')
    .argument('<method>', 'method name, e.g. vm.list')
    .argument('[params]', 'params as a JSON object', '{}')
    .option('--protocol-version <n>', 'send another protocol version (for testing)')
    .action(async (method: string, paramsText: string, opts: { protocolVersion?: string }) => {
      let params: unknown;
      try { params = JSON.parse(paramsText); } catch {
        throw new BangerError('usage', `params ${JSON.stringify(paramsText)} are not valid JSON`, { hint: 'pass a JSON object, e.g. \'{"name":"dev"}\'' });
      }
      const result = await ctx.daemon.callRaw(method, params, opts.protocolVersion === undefined ? {} : { protocolVersion: Number(opts.protocolVersion) });
      printJson(ctx.output, result);
    });
}
