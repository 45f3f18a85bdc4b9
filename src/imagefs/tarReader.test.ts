import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { paxBody, tarHeader, tarLayer } from '../../test/fixtures/layerTar.js';
import { ByteReader, CapExceeded } from './byteReader.js';
import { readTar, type TarEntry, TarError } from './tarReader.js';

async function entries(tar: Buffer, maxHeaderBytes = 1 << 20): Promise<Array<TarEntry & { data: string }>> {
  const out: Array<TarEntry & { data: string }> = [];
  const r = new ByteReader(Readable.from([tar.subarray(0, 700), tar.subarray(700)]), () => {});
  await readTar(r, { maxHeaderBytes }, async (e, data) => {
    const chunks: Buffer[] = [];
    for await (const c of data) chunks.push(c);
    out.push({ ...e, data: Buffer.concat(chunks).toString() });
  });
  return out;
}

test('reads ustar entries of every kind with their metadata and data', async () => {
  const got = await entries(
    tarLayer([
      { name: 'etc/', type: 'dir', mode: 0o755 },
      { name: 'etc/shadow', content: 'secret\n', mode: 0o640, gid: 42, mtime: 1234 },
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
      { name: 'bin/ash', type: 'hardlink', linkname: 'bin/busybox' },
      { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'p', type: 'fifo' },
      { name: 'sparse', type: 'S', content: 'x' },
    ]),
  );
  assert.deepEqual(
    got.map((e) => [e.name, e.kind, e.linkname, e.mode, e.gid, e.data]),
    [
      ['etc/', 'dir', '', 0o755, 0, ''],
      ['etc/shadow', 'file', '', 0o640, 42, 'secret\n'],
      ['bin/sh', 'symlink', '/bin/busybox', 0o777, 0, ''],
      ['bin/ash', 'hardlink', 'bin/busybox', 0o644, 0, ''],
      ['dev/null', 'char', '', 0o666, 0, ''],
      ['p', 'fifo', '', 0o644, 0, ''],
      ['sparse', 'other', '', 0o644, 0, 'x'],
    ],
  );
  assert.equal(got[1]!.mtime, 1234);
  assert.deepEqual([got[4]!.devmajor, got[4]!.devminor], [1, 3]);
});

test('PAX path, linkpath, uid, xattrs (SCHILY and LIBARCHIVE) and global headers apply', async () => {
  const long = `${'d'.repeat(150)}/${'f'.repeat(120)}`;
  const cap = Buffer.from([1, 0, 0, 2, 0, 0x30, 0, 0]);
  const got = await entries(
    tarLayer(
      [
        { name: long, content: 'x', xattrs: { 'security.capability': cap, 'user.x': 'y' }, pax: { uid: '100000' } },
        { name: 'l', type: 'symlink', linkname: long },
        { name: 'b', pax: { 'LIBARCHIVE.xattr.user.%41': Buffer.from('hi').toString('base64') } },
      ],
      { globalPax: { gid: '7' } },
    ),
  );
  assert.equal(got[0]!.name, long);
  assert.equal(got[0]!.uid, 100000);
  assert.equal(got[0]!.gid, 7);
  assert.deepEqual(got[0]!.xattrs.get('security.capability'), cap);
  assert.equal(got[0]!.xattrs.get('user.x')!.toString(), 'y');
  assert.equal(got[1]!.linkname, long);
  assert.equal(got[2]!.xattrs.get('user.A')!.toString(), 'hi');
});

test('GNU long names are read', async () => {
  const long = 'n'.repeat(300);
  const got = await entries(tarLayer([{ name: long, content: 'z', gnuLongName: true }]));
  assert.equal(got[0]!.name, long);
  assert.equal(got[0]!.data, 'z');
});

test('a PAX header or long name over the cap is refused before it is read, naming the entry', async () => {
  const tar = tarLayer([{ name: 'big', pax: { comment: 'x'.repeat(5000) } }]);
  await assert.rejects(
    entries(tar, 4096),
    (e: unknown) =>
      e instanceof TarError &&
      /PAX header of \d+ bytes exceeds the 4096-byte cap/.test(e.message) &&
      e.entry === 'PaxHeader',
  );
  const gnu = tarLayer([{ name: 'l'.repeat(5000), gnuLongName: true }]);
  await assert.rejects(entries(gnu, 4096), /GNU long name of 5001 bytes exceeds/);
});

test('a bad checksum, a malformed PAX record and a truncated archive are refused', async () => {
  const h = tarHeader({ name: 'a', typeflag: '0', size: 3 });
  h[0] = 0x62;
  await assert.rejects(entries(Buffer.concat([h, Buffer.alloc(1024)])), /bad header checksum/);
  const badPax = Buffer.from('99 path=x\n');
  await assert.rejects(
    entries(
      Buffer.concat([
        tarHeader({ name: 'p', typeflag: 'x', size: badPax.length }),
        badPax,
        Buffer.alloc(512 - badPax.length),
        tarHeader({ name: 'a', typeflag: '0' }),
        Buffer.alloc(1024),
      ]),
    ),
    /malformed PAX/,
  );
  await assert.rejects(
    entries(tarLayer([{ name: 'a', content: 'x'.repeat(2000) }]).subarray(0, 1024)),
    /ends inside an entry/,
  );
  assert.equal(paxBody({ a: 'b' }).toString(), '6 a=b\n');
});

test('a name that is not UTF-8 is refused', async () => {
  const h = tarHeader({ name: Buffer.from([0x66, 0xff, 0x66]), typeflag: '0' });
  await assert.rejects(entries(Buffer.concat([h, Buffer.alloc(1024)])), /not valid UTF-8/);
});

test('the byte counter stops the source at the cap', async () => {
  let n = 0;
  const r = new ByteReader(Readable.from([Buffer.alloc(600), Buffer.alloc(600), Buffer.alloc(600)]), (k) => {
    n += k;
    if (n > 1000) throw new CapExceeded('over');
  });
  await assert.rejects(r.skip(1500), CapExceeded);
  assert.equal(r.total, 1200);
});

test('a PAX mtime may be negative or fractional; other PAX numbers may not', async () => {
  const got = await entries(
    tarLayer([
      { name: 'old', pax: { mtime: '-1000.5' } },
      { name: 'new', pax: { mtime: '1700000000.25' } },
    ]),
  );
  assert.deepEqual(
    got.map((e) => e.mtime),
    [-1001, 1700000000],
  );
  await assert.rejects(entries(tarLayer([{ name: 'u', pax: { uid: '-1' } }])), /PAX uid "-1" is not a number/);
});

test('xattrs of a global PAX header are not applied to later entries; they are reported once', async () => {
  const tar = tarLayer(
    [
      { name: 'a', content: 'x' },
      { name: 'b', content: 'y', xattrs: { 'user.own': 'v' } },
    ],
    { globalPax: { gid: '7', 'SCHILY.xattr.user.g': 'big', 'LIBARCHIVE.xattr.user.h': 'aGk=' } },
  );
  const got: TarEntry[] = [];
  const skips: string[] = [];
  const r = new ByteReader(Readable.from([tar]), () => {});
  await readTar(
    r,
    { maxHeaderBytes: 1 << 20 },
    async (e) => {
      got.push(e);
    },
    undefined,
    (_name, why) => skips.push(why),
  );
  assert.deepEqual(
    got.map((e) => [e.name, e.gid, [...e.xattrs.keys()]]),
    [
      ['a', 7, []],
      ['b', 7, ['user.own']],
    ],
  );
  assert.deepEqual(skips, ['2 xattrs in a global PAX header are not applied']);
});

test('xattrs over 4 KiB per inode, a bad %-escape and names with a backslash or quote are refused', async () => {
  const refusal = async (pax: Record<string, string>, why: RegExp) =>
    assert.rejects(entries(tarLayer([{ name: 'f', content: 'x', pax }])), (e) => {
      assert.ok(e instanceof TarError, String(e));
      assert.equal(e.entry, 'f');
      assert.match(e.message, why);
      return true;
    });
  await refusal({ 'SCHILY.xattr.user.a': 'v'.repeat(3000), 'SCHILY.xattr.user.b': 'v'.repeat(1100) }, /exceed 4096/);
  await refusal({ 'LIBARCHIVE.xattr.user.%ZZ': 'eA==' }, /malformed %-escape/);
  await refusal({ 'SCHILY.xattr.user.a\\b': 'v' }, /backslash or quote/);
  await refusal({ "SCHILY.xattr.user.q'x": 'v' }, /backslash or quote/);
  const [ok] = await entries(tarLayer([{ name: 'f', content: 'x', pax: { 'SCHILY.xattr.user.a': 'v'.repeat(4000) } }]));
  assert.equal(ok!.xattrs.get('user.a')!.length, 4000);
});
