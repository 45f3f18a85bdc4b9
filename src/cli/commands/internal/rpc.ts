/** `banger internal rpc METHOD [PARAMS]`: one raw RPC request, its result as JSON. */
import type { Command } from 'commander';
import { BangerError } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { act, type Outcome } from '../verb.js';

export function registerRpc(internal: Command, ctx: CliContext): Command {
  return internal
    .command('rpc')
    .description('send one raw RPC request and print the result as JSON')
    .argument('<method>', 'method name, e.g. vm.list')
    .argument('[params]', 'params as a JSON object', '{}')
    .option('--protocol-version <n>', 'send another protocol version (for testing)')
    .action(
      act(ctx, (method: string, paramsText: string, opts: { protocolVersion?: string }) =>
        rawRpc(ctx, method, paramsText, opts.protocolVersion),
      ),
    );
}

export async function rawRpc(
  ctx: CliContext,
  method: string,
  paramsText: string,
  protocolVersion?: string,
): Promise<Outcome> {
  let params: unknown;
  try {
    params = JSON.parse(paramsText);
  } catch {
    throw new BangerError('usage', `params ${JSON.stringify(paramsText)} are not valid JSON`, {
      hint: 'pass a JSON object, e.g. \'{"name":"dev"}\'',
    });
  }
  const opts = protocolVersion === undefined ? {} : { protocolVersion: Number(protocolVersion) };
  printJson(ctx.output, await ctx.daemon.callRaw(method, params, opts));
  return 'ok';
}
