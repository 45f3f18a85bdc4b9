/**
 * `banger doctor`: checks this host for everything banger needs (without starting the
 * daemon). Any FAIL is exit reason `doctor_failed` (10).
 */
import type { Command } from 'commander';
import { buildInfo } from '../../buildinfo/index.js';
import { defaultConfig, loadConfig, type Config } from '../../config/index.js';
import { evaluateChecks, gatherFacts, type CheckResult } from '../../doctor/index.js';
import { BangerError } from '../../model/index.js';
import { ExecHostRunner } from '../../system/index.js';
import type { CliContext } from '../context.js';
import { paint, printJson, type Output } from '../output.js';
import { act, examples, isJson, type Outcome } from './verb.js';

const STYLE = { PASS: 'green', WARN: 'yellow', FAIL: 'red' } as const;

export function renderChecks(o: Output, results: readonly CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length));
  let text = '';
  for (const r of results) {
    text += `${paint(o, STYLE[r.status], r.status)}  ${r.name.padEnd(w)}  ${r.message}\n`;
    if (r.hint) text += `${' '.repeat(6 + w)}  ${paint(o, 'dim', `hint: ${r.hint}`)}\n`;
  }
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  return `${text}\n${count('PASS')} passed, ${count('WARN')} warnings, ${count('FAIL')} failed\n`;
}

export function registerDoctorCommand(program: Command, ctx: CliContext): Command {
  return program
    .command('doctor')
    .description(
      'check this host for everything banger needs; PASS/WARN/FAIL with a fix hint each' +
        ' (does not start the daemon)',
    )
    .addHelpText(
      'after',
      examples(
        ['banger doctor', 'banger doctor --json | jq \'.[] | select(.status != "PASS")\''],
        'Exit status is 10 when any check FAILs.',
      ),
    )
    .action(act(ctx, (_o: unknown, cmd: Command) => doctor(ctx, isJson(cmd))));
}

export async function doctor(ctx: CliContext, json: boolean): Promise<Outcome> {
  const { config, configError } = loadConfigForDoctor(ctx);
  const facts = await gatherFacts({
    runner: new ExecHostRunner(),
    layout: ctx.layout,
    config,
    configError,
    cli: buildInfo,
    home: ctx.env.HOME ?? '',
    pingDaemon: () => ctx.daemon.client.call('ping', {}),
  });
  const results = evaluateChecks(facts);
  if (json) printJson(ctx.output, results);
  else ctx.output.out(renderChecks(ctx.output, results));
  return results.some((r) => r.status === 'FAIL') ? 'doctor_failed' : 'ok';
}

/** The config, or (when it is invalid) the defaults and the error, which doctor reports as a check. */
function loadConfigForDoctor(ctx: CliContext): { config: Config; configError: string | null } {
  try {
    return { config: loadConfig({ layout: ctx.layout, env: ctx.env }), configError: null };
  } catch (e) {
    if (!(e instanceof BangerError)) throw e;
    const config = defaultConfig(ctx.layout);
    config.source.exists = true;
    return { config, configError: e.message };
  }
}
