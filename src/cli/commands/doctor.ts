import type { Command } from 'commander';
import { buildInfo } from '../../buildinfo/index.js';
import { defaultConfig, loadConfig, type Config } from '../../config/index.js';
import { evaluateChecks, gatherFacts, type CheckResult } from '../../doctor/index.js';
import { BangerError, exitCodeOf } from '../../model/index.js';
import { ExecHostRunner } from '../../system/index.js';
import type { CliContext } from '../context.js';
import { paint, printJson, type Output } from '../output.js';

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

export function registerDoctorCommand(program: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  program.command('doctor')
    .description('check this host for everything banger needs; PASS/WARN/FAIL with a fix hint each (does not start the daemon)')
    .addHelpText('after', '\nExit status is 10 when any check FAILs.\n\nExamples:\n  banger doctor\n  banger doctor --json | jq \'.[] | select(.status != "PASS")\'')
    .action(async (_o, cmd: Command) => {
      const layout = ctx.layout;
      let config: Config;
      let configError: string | null = null;
      try {
        config = loadConfig({ layout, env: ctx.env });
      } catch (e) {
        if (!(e instanceof BangerError)) throw e;
        configError = e.message;
        config = defaultConfig(layout);
        config.source.exists = true;
      }
      const facts = await gatherFacts({
        runner: new ExecHostRunner(), layout, config, configError, cli: buildInfo, home: ctx.env.HOME ?? '',
        pingDaemon: () => ctx.daemon.client.call('ping', {}),
      });
      const results = evaluateChecks(facts);
      if (isJson(cmd)) printJson(ctx.output, results);
      else ctx.output.out(renderChecks(ctx.output, results));
      if (results.some((r) => r.status === 'FAIL')) process.exitCode = exitCodeOf('doctor_failed');
    });
}
