import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram, runCli, renderVmList, renderTable, formatAge, reportError, type Output } from './index.js';
import { CliContext } from './context.js';
import { isSshTransportFailure } from './sshSession.js';
import { BangerError } from '../model/index.js';
import { sampleVm } from '../../test/fixtures/vms.js';

function memoryOutput(colour = false): Output & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    colour,
    isTty: false,
    out(t: string) {
      o.stdout += t;
    },
    err(t: string) {
      o.stderr += t;
    },
  };
  return o;
}

function leafCommands(c: Command, path: string[] = []): Array<[string, Command]> {
  const visible = c.commands.filter((x) => !(x as unknown as { _hidden: boolean })._hidden);
  if (visible.length === 0) return [[path.join(' '), c]];
  return visible.flatMap((x) => leafCommands(x, [...path, x.name()]));
}

test('every visible command explains itself with a description and an example', () => {
  const program = buildProgram(new CliContext({}, memoryOutput()));
  const leaves = leafCommands(program);
  assert.ok(leaves.length >= 7);
  for (const [name, cmd] of leaves) {
    assert.ok(cmd.description().length > 10, `${name} has a description`);
    const help = memoryOutput();
    cmd.configureOutput({ writeOut: help.out, writeErr: help.err });
    cmd.outputHelp();
    assert.match(help.stdout, /Example/, `${name} --help shows an example`);
  }
});

test('--help and --version exit 0; unknown options exit 2 with a banger: line', async () => {
  const h = memoryOutput();
  assert.equal(await runCli(['--help'], {}, h), 0);
  assert.match(h.stdout, /Usage: banger/);
  const v = memoryOutput();
  assert.equal(await runCli(['--version'], {}, v), 0);
  assert.match(v.stdout, /^banger v\d+\.\d+\.\d+ \(commit \S+, built \S+\)\n$/);
  const bad = memoryOutput();
  assert.equal(await runCli(['vm', 'list', '--colour'], {}, bad), 2);
  assert.match(bad.stderr, /^banger: unknown option '--colour'/);
  const badMode = memoryOutput();
  assert.equal(await runCli(['vm', 'list'], { BANGER_MODE: 'root' }, badMode), 2);
  assert.match(badMode.stderr, /BANGER_MODE=root is not a mode/);
});

test('errors print message, hint and op_id and map to the exit table', () => {
  const o = memoryOutput();
  const code = reportError(
    o,
    new BangerError('not_running', 'vm "dev" is not running', {
      hint: 'start it with `banger vm start dev`',
      opId: 'op-0123456789',
    }),
  );
  assert.equal(code, 5);
  assert.equal(
    o.stderr,
    'banger: vm "dev" is not running\nhint: start it with `banger vm start dev`\nop_id: op-0123456789\n',
  );
  const c = memoryOutput(true);
  reportError(c, new Error('surprise'));
  assert.match(c.stderr, /\u001b\[31mbanger:\u001b\[0m surprise/);
});

test('vm list rendering: columns, empty state, colour only when enabled', () => {
  const now = Date.parse('2026-01-01T01:00:00.000Z');
  const plain = renderVmList(memoryOutput(), [sampleVm({ state: 'running', imageName: 'debian-bookworm' })], now);
  assert.equal(
    plain,
    'ID        NAME  STATE    IMAGE            VMM   IP          VCPU  MEM  DISK  WORKSPACE  CREATED\n' +
      'abcd1234  dev   running  debian-bookworm  qemu  172.16.0.2  2     2G   8G    -          1h ago\n',
  );
  assert.match(renderVmList(memoryOutput(true), [sampleVm({ state: 'running' })], now), /\u001b\[32mrunning/);
  assert.match(renderVmList(memoryOutput(), []), /no VMs yet/);
  assert.equal(renderTable(['A', 'B'], [['x', '']]), 'A  B\nx\n');
  assert.equal(formatAge('2026-01-01T00:00:00Z', Date.parse('2026-01-03T00:00:00Z')), '2d ago');
});

test("ssh failures before the session began are told apart from a command's own status 255", () => {
  for (const e of [
    'Connection timed out during banner exchange\n',
    'kex_exchange_identification: read: Connection reset by peer\n',
    'Connection closed by 10.0.0.2 port 22\n',
  ]) {
    assert.equal(isSshTransportFailure(e), true, e);
  }
  for (const e of ['', 'Permission denied (publickey).\n', 'some command failed\n', 'Host key verification failed.\n'])
    assert.equal(isSshTransportFailure(e), false, e);
});
