import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { CliContext } from '../../context.js';
import { buildProgram } from '../../main.js';
import type { Output } from '../../output.js';
import { argKind, completionScript, completionSpecs, type CommandSpec } from './index.js';

const quiet: Output = { out: () => {}, err: () => {}, isTty: false, colour: false };
const realSpecs = () => completionSpecs(buildProgram(new CliContext({}, quiet)));
const at = (specs: CommandSpec[], path: string) => specs.find((s) => s.path.join(' ') === path);

test('spec from a small tree: subcommands with aliases, valued flags, global flags, argument kinds, hidden left out', () => {
  const program = new Command('banger').option('--json', 'json');
  const vm = program.command('vm');
  vm.command('delete').alias('rm').argument('<names...>').option('--image <image>', 'i').option('-f, --force', 'f');
  vm.command('secret', { hidden: true });
  program.command('internal', { hidden: true }).command('rpc');
  const specs = completionSpecs(program);
  assert.deepEqual(
    specs.map((s) => s.path.join(' ')),
    ['', 'vm', 'vm delete', 'vm rm'],
  );
  assert.deepEqual(at(specs, '')!.subs, ['vm']);
  assert.deepEqual(at(specs, 'vm')!.subs, ['delete', 'rm']);
  const del = at(specs, 'vm delete')!;
  assert.deepEqual(del.opts, ['--image', '-f', '--force', '--json', '-h', '--help']);
  assert.deepEqual(del.valueOpts, ['--image']);
  assert.deepEqual(del.optKinds, [['--image', 'images']]);
  assert.deepEqual(del.args, ['vms...']);
  assert.deepEqual(at(specs, 'vm rm'), { ...del, path: ['vm', 'rm'] });
});

test('argKind: VM verbs take VM names; image and kernel verbs on an existing one take theirs; new names take nothing', () => {
  assert.equal(argKind(['vm', 'start'], 'names'), 'vms');
  assert.equal(argKind(['vm', 'workspace', 'prepare'], 'name'), 'vms');
  assert.equal(argKind(['vm', 'run'], 'path'), 'files');
  assert.equal(argKind(['image', 'show'], 'name'), 'images');
  assert.equal(argKind(['image', 'pull'], 'name'), 'none');
  assert.equal(argKind(['image', 'register'], 'name'), 'none');
  assert.equal(argKind(['kernel', 'rm'], 'name'), 'kernels');
  assert.equal(argKind(['kernel', 'import'], 'name'), 'none');
});

test("the real CLI's table: every vm verb with a name argument completes VM names; hidden commands are absent", () => {
  const specs = realSpecs();
  const root = at(specs, '')!;
  assert.ok(root.subs.includes('vm') && root.subs.includes('completion'));
  assert.ok(!root.subs.includes('internal') && !root.subs.includes('__complete'));
  for (const verb of ['start', 'stop', 'restart', 'kill', 'delete', 'rm', 'set']) {
    assert.deepEqual(at(specs, `vm ${verb}`)!.args, ['vms...'], verb);
  }
  for (const verb of ['ssh', 'show', 'logs', 'exec']) assert.deepEqual(at(specs, `vm ${verb}`)!.args, ['vms'], verb);
  assert.deepEqual(at(specs, 'vm run')!.optKinds, [['--image', 'images']]);
  assert.ok(at(specs, 'vm run')!.valueOpts.includes('--memory'));
  assert.ok(!at(specs, 'vm run')!.valueOpts.includes('--rm'));
  assert.deepEqual(at(specs, 'image delete')!.args, ['images']);
});

test('scripts: each shell gets the table in its syntax, and asks `banger __complete` for names', () => {
  const specs = realSpecs();
  const bash = completionScript('bash', specs);
  assert.match(bash, /^ {4}'vm start'\) opts='--json -h --help'; args='vms\.\.\.' ;;$/m);
  assert.match(bash, /^complete -F _banger banger$/m);
  assert.match(bash, /banger __complete "\$kind"/);
  assert.doesNotMatch(bash, /@@TABLE@@|\$=/);
  const zsh = completionScript('zsh', specs);
  assert.match(zsh, /^#compdef banger$/m);
  assert.match(zsh, /^ {4}'vm start'\) opts='--json -h --help'; args='vms\.\.\.' ;;$/m);
  assert.match(zsh, /for w in \$=args/);
  assert.match(zsh, /compdef _banger banger/);
  assert.doesNotMatch(zsh, /(^|[\s;(])(local )?path=/m, "zsh's $path is $PATH: the walker uses cmdpath");
  const fish = completionScript('fish', specs);
  assert.match(
    fish,
    /^ {8}case 'vm start'\n {8}set -g __banger_opts '--json' '-h' '--help'\n {8}set -g __banger_args 'vms\.\.\.'$/m,
  );
  assert.match(fish, /^complete -c banger -f -a '\(__banger_complete\)'$/m);
  for (const s of [bash, zsh, fish]) assert.equal(s.match(/@@TABLE@@/g), null);
});
