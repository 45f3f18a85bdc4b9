import type { Command } from 'commander';
import { buildInfo, bundleDir } from '../../buildinfo/index.js';
import { systemInstall, systemRestart, systemStatus, systemUninstall } from '../../install/index.js';
import { systemLayout } from '../../paths/index.js';
import { ExecHostRunner } from '../../system/index.js';
import type { CliContext } from '../context.js';
import { usageError } from '../errors.js';
import { printJson, renderTable } from '../output.js';

/** `banger system install|status|restart|uninstall`: the system-wide install (SPEC 2). */
export function registerSystemCommands(program: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  const system = program.command('system').description('install banger system-wide (a daemon owned by you, a root helper), and manage that install');
  const deps = () => ({ runner: new ExecHostRunner(), layout: systemLayout(), progress: (m: string) => ctx.output.err(`  ${m}\n`) });

  system.command('install')
    .requiredOption('--owner <user>', 'the unprivileged user whose daemon this is')
    .option('--prefix <dir>', 'where the build goes (bin/ and lib/banger/)', '/usr/local')
    .description('copy this build into PREFIX, write install.toml and both systemd units, start the root helper and the daemon (systemd, or the fallback supervisor without it)')
    .addHelpText('after', '\nExample:\n  sudo banger system install --owner "$USER"')
    .action(async (o: { owner: string; prefix: string }) => {
      if (!o.prefix.startsWith('/')) throw usageError(`--prefix ${o.prefix} must be absolute`);
      const r = await systemInstall(deps(), { owner: o.owner, prefix: o.prefix, bundleDir: bundleDir(), build: buildInfo, node: process.execPath });
      ctx.output.out(`installed banger ${r.version} for ${r.owner} (uid ${r.owner_uid}) in ${r.prefix}; supervisor: ${r.supervisor}\n`);
    });

  system.command('status')
    .description('the installed build, and whether the root helper and the daemon run (and under which supervisor)')
    .addHelpText('after', '\nExample:\n  banger system status --json')
    .action(async (_o, cmd: Command) => {
      const { install, rows } = await systemStatus(deps());
      if (isJson(cmd)) { printJson(ctx.output, { install, components: rows }); return; }
      ctx.output.out(`banger ${install.version} (commit ${install.commit}) for ${install.owner} in ${install.prefix}; supervisor: ${install.supervisor}\n`);
      ctx.output.out(renderTable(['COMPONENT', 'STATE', 'PID', 'SOCKET', 'SUPERVISED BY'], rows.map((r) => [r.component, r.state, r.pid ? String(r.pid) : '-', r.socket, r.detail])));
      if (rows.some((r) => r.state !== 'running')) process.exitCode = 1;
    });

  system.command('restart')
    .description('restart the root helper, then the daemon; running VMs keep running')
    .addHelpText('after', '\nExample:\n  sudo banger system restart')
    .action(async () => {
      const r = await systemRestart(deps());
      ctx.output.out(`restarted (supervisor: ${r.supervisor})\n`);
    });

  system.command('uninstall')
    .option('--purge', 'also delete every VM, image, kernel, the state, cache and config')
    .description('stop and remove the install (units, launchers, build, install.toml); --purge removes all data too')
    .addHelpText('after', '\nExamples:\n  sudo banger system uninstall\n  sudo banger system uninstall --purge')
    .action(async (o: { purge?: boolean }) => {
      const r = await systemUninstall(deps(), { purge: !!o.purge });
      ctx.output.out(`uninstalled banger ${r.version}${o.purge ? ' and purged its data' : ' (state kept in /var/lib/banger; --purge removes it)'}\n`);
    });
}
