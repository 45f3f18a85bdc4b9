import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planTooling } from './index.js';

test('tooling plan: nothing declared, opted out, refused without NAT, installed with NAT', () => {
  const base = { guestPath: '/root/repo', nat: false, noBootstrap: false };
  const cases: Array<[string, Parameters<typeof planTooling>[0], string]> = [
    ['no tool files', { ...base, toolFiles: [] }, 'none'],
    ['no tool files, even with NAT', { ...base, toolFiles: [], nat: true }, 'none'],
    ['.mise.toml without NAT', { ...base, toolFiles: ['.mise.toml'] }, 'refuse'],
    ['.tool-versions without NAT', { ...base, toolFiles: ['.tool-versions'] }, 'refuse'],
    ['--no-bootstrap without NAT', { ...base, toolFiles: ['.mise.toml'], noBootstrap: true }, 'skipped'],
    ['--no-bootstrap with NAT', { ...base, toolFiles: ['.mise.toml'], nat: true, noBootstrap: true }, 'skipped'],
    ['with NAT', { ...base, toolFiles: ['.mise.toml', '.tool-versions'], nat: true }, 'install'],
  ];
  for (const [name, input, kind] of cases) assert.equal(planTooling(input).kind, kind, name);
  const refused = planTooling({ ...base, toolFiles: ['.mise.toml'] });
  assert.ok(
    refused.kind === 'refuse' &&
      /--nat/.test(refused.hint) &&
      /--no-bootstrap/.test(refused.hint) &&
      /\.mise\.toml/.test(refused.message),
  );
  const install = planTooling({ ...base, toolFiles: ['.mise.toml'], nat: true });
  assert.ok(install.kind === 'install');
  assert.match(install.script, /^exec >\/root\/\.cache\/banger\/bootstrap\.log 2>&1$/m);
  assert.match(install.script, /curl -fsSL https:\/\/mise\.run \| sh/);
  assert.match(install.script, /"\$m" install$/m);
});
