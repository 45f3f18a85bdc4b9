/**
 * The host preflight through the real CLI and daemon (docs/howto/troubleshooting.md): on a
 * PATH that lacks two host programs, `vm create`, `image pull` and `kernel pull` each name
 * every missing piece at once with the one apt command, before anything is downloaded or
 * built; doctor's host-packages check says the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createSandbox } from './harness.js';

const LACKING = ['ssh-keygen', 'dpkg-deb'];

test('a PATH lacking ssh-keygen and dpkg-deb: vm create, image pull and kernel pull name both, change nothing', async () => {
  const s = createSandbox();
  try {
    // Everything /usr/bin has but the two (the daemon gets this PATH from the CLI that starts it).
    const bin = join(s.dir, 'bin');
    mkdirSync(bin);
    for (const name of readdirSync('/usr/bin')) {
      if (!LACKING.includes(name)) symlinkSync(join('/usr/bin', name), join(bin, name));
    }
    const env = { PATH: bin };
    const create = await s.banger(['vm', 'create', '--name', 'pf', '--nat'], { env });
    assert.equal(create.code, 1, create.stderr);
    assert.match(
      create.stderr,
      /^banger: creating a VM needs \d+ host pieces? this host lacks: .*ssh-keygen \(openssh-client: .*dpkg-deb \(dpkg: .*; nothing was downloaded or built$/m,
    );
    assert.match(
      create.stderr,
      /^hint: install them all with `sudo apt-get install -y (.* )?openssh-client (.* )?dpkg\b/m,
    );

    for (const [args, what] of [
      [['image', 'pull', 'debian-bookworm'], 'building image debian-bookworm'],
      [['kernel', 'pull', 'debian-bookworm-cloud'], 'pulling kernel debian-bookworm-cloud'],
    ] as const) {
      const r = await s.banger([...args], { env });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^banger: ${what} needs .*dpkg-deb \\(dpkg: `, 'm'));
      assert.doesNotMatch(r.stderr, /ssh-keygen/, 'a pull names only what a pull uses');
    }
    assert.equal((await s.banger(['vm', 'list', '--json'], { env })).stdout.trim(), '[]');
    for (const dir of ['images', 'kernels']) {
      const p = join(s.stateDir, dir);
      assert.deepEqual(existsSync(p) ? readdirSync(p) : [], [], `${dir}: nothing downloaded or built`);
    }
    const doctor = await s.banger(['doctor', '--json'], { env });
    const check = (
      JSON.parse(doctor.stdout) as Array<{ name: string; status: string; message: string; hint?: string }>
    ).find((c) => c.name === 'host-packages');
    assert.equal(check?.status, 'WARN');
    assert.match(check!.message, /ssh-keygen .*dpkg-deb/);
    assert.match(check!.hint!, /apt-get install -y .*openssh-client.* dpkg/);
  } finally {
    await s.cleanup();
  }
});
