import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_NEEDS, HOST_PIECES, judgePieces, missingPiecesError, piecesFor, probeHostPieces } from './index.js';

test('the table: every need has pieces, every piece a package and a reason', () => {
  for (const need of HOST_NEEDS) assert.ok(piecesFor([need]).length > 0, need);
  for (const p of HOST_PIECES) assert.ok(p.aptPackage && p.why && p.neededFor.length, p.name);
  assert.deepEqual(
    piecesFor(['qemu']).map((p) => p.name),
    ['qemu-system-x86_64', 'qemu-img'],
  );
  assert.ok(piecesFor(['kernel-pull']).some((p) => p.name === '/bin/busybox'));
});

test('verdict: every missing piece at once, one apt command with each package once, in table order', () => {
  const pieces = piecesFor(['vm', 'qemu', 'kernel-pull', 'image-build']);
  const all = new Set(pieces.map((p) => p.name));
  assert.deepEqual(judgePieces(pieces, all), { missing: [], aptCommand: null });
  assert.equal(missingPiecesError('creating a VM', judgePieces(pieces, all)), null);
  const present = new Set(
    [...all].filter((n) => !['/bin/busybox', 'qemu-system-x86_64', 'resize2fs', 'debugfs'].includes(n)),
  );
  const v = judgePieces(pieces, present);
  assert.deepEqual(
    v.missing.map((p) => p.name),
    ['qemu-system-x86_64', 'debugfs', 'resize2fs', '/bin/busybox'],
  );
  assert.equal(v.aptCommand, 'apt-get install -y qemu-system-x86 e2fsprogs busybox-static');
  const err = missingPiecesError('creating a VM', v)!;
  assert.equal(err.code, 'operation_failed');
  assert.match(
    err.message,
    /^creating a VM needs 4 host pieces this host lacks: qemu-system-x86_64 \(qemu-system-x86: runs the VMs\), debugfs/,
  );
  assert.match(err.message, /\/bin\/busybox \(busybox-static: .*\); nothing was downloaded or built$/);
  assert.equal(
    err.hint,
    'install them all with `sudo apt-get install -y qemu-system-x86 e2fsprogs busybox-static`, then run it again (`banger doctor` checks the host)',
  );
  const one = missingPiecesError(
    'pulling kernel k',
    judgePieces(piecesFor(['kernel-pull']), new Set(['apt-get', 'apt-cache', 'dpkg-deb', 'depmod'])),
  )!;
  assert.match(one.message, /needs 1 host piece this host lacks: \/bin\/busybox/);
  assert.match(one.hint!, /^install it with `sudo apt-get install -y busybox-static`/);
});

test('probe: programs on the given PATH, a configured path instead of a lookup, files by path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-pieces-'));
  try {
    symlinkSync('/bin/sh', join(dir, 'git'));
    const pieces = piecesFor(['workspace', 'qemu']);
    const found = probeHostPieces(pieces, dir, { 'qemu-system-x86_64': '/bin/sh', 'qemu-img': null });
    assert.ok(found.has('git'));
    assert.ok(found.has('qemu-system-x86_64'), 'the configured path counts');
    assert.equal(found.has('qemu-img'), false);
    assert.equal(
      probeHostPieces(pieces, dir, { 'qemu-system-x86_64': join(dir, 'nope') }).has('qemu-system-x86_64'),
      false,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
