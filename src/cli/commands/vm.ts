import type { Command } from 'commander';
import { formatSize, MIB, type Vm } from '../../model/index.js';
import type { CliContext } from '../context.js';
import { formatAge, paint, printJson, renderTable, type Output } from '../output.js';
import { registerVmLifecycleCommands } from './vmLifecycle.js';

const STATE_STYLE = { running: 'green', stopped: 'dim', created: 'dim', error: 'red' } as const;

export function renderVmList(o: Output, vms: readonly Vm[], now = Date.now()): string {
  if (vms.length === 0) return 'no VMs yet: create one with `banger vm run`\n';
  return renderTable(
    ['ID', 'NAME', 'STATE', 'IMAGE', 'IP', 'VCPU', 'MEM', 'DISK', 'WORKSPACE', 'CREATED'],
    vms.map((v) => [
      v.id, v.name, paint(o, STATE_STYLE[v.state], v.state), v.imageName ?? '-', v.guestIp ?? '-', String(v.spec.vcpu),
      formatSize(v.spec.memoryMib * MIB), formatSize(v.spec.diskSizeBytes), v.workspace ? v.workspace.hostPath : '-', formatAge(v.createdAt, now),
    ]),
  );
}

export interface VmRuntime { pid: number; vmm: string; status: string; startedAt: string }

export function renderVmShow(v: Vm, runtime: VmRuntime | null = null): string {
  const rows: Array<[string, string]> = [
    ['name', v.name], ['id', v.id], ['state', v.state], ['image', v.imageName ?? '-'], ['vmm', v.vmm],
    ['spec', `${v.spec.vcpu} vcpu | ${v.spec.memoryMib} MiB | ${formatSize(v.spec.diskSizeBytes)} disk`],
    ['ip', v.guestIp ?? '-'], ['mac', v.mac ?? '-'], ['dns', v.dnsName], ['nat', v.nat ? 'on' : 'off'],
    ['workspace', v.workspace ? `${v.workspace.hostPath} -> ${v.workspace.guestPath}` : '-'],
    ['dir', v.vmDir], ['created', v.createdAt], ['touched', v.touchedAt],
  ];
  if (runtime) rows.push(['vmm', `${runtime.vmm}, pid ${runtime.pid}, ${runtime.status} since ${runtime.startedAt}`]);
  if (v.lastError) rows.push(['last error', v.lastError]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(w)}  ${val}`).join('\n') + '\n';
}

async function listAction(ctx: CliContext, json: boolean): Promise<void> {
  const { vms } = await ctx.daemon.call('vm.list', {});
  if (json) printJson(ctx.output, vms);
  else ctx.output.out(renderVmList(ctx.output, vms));
}

export function registerVmCommands(program: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  const vm = program.command('vm').description('create, inspect and control sandbox VMs');
  registerVmLifecycleCommands(vm, ctx, isJson);

  vm.command('list').alias('ls')
    .description('list all VMs')
    .addHelpText('after', '\nExamples:\n  banger vm list\n  banger vm list --json | jq -r \'.[].name\'')
    .action(async (_opts, cmd: Command) => listAction(ctx, isJson(cmd)));

  program.command('ps')
    .description('list all VMs (same as `banger vm list`)')
    .addHelpText('after', '\nExample:\n  banger ps --json')
    .action(async (_opts, cmd: Command) => listAction(ctx, isJson(cmd)));

  vm.command('show').argument('<name>', 'VM name, id or unique id prefix')
    .description('show the full record of one VM')
    .addHelpText('after', '\nExample:\n  banger vm show devbox --json')
    .action(async (name: string, _opts, cmd: Command) => {
      const { vm: v, runtime } = await ctx.daemon.call('vm.show', { name });
      if (isJson(cmd)) printJson(ctx.output, { ...v, runtime });
      else ctx.output.out(renderVmShow(v, runtime));
    });
}
