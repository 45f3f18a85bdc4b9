import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectImage, type TreeProbe } from './detect.js';
import { describeInjection, planInjection } from './inject.js';
import { imageNameForRef } from './naming.js';
import { sshdEnsureScript } from './sshdInstall.js';

/** A tree as a map of path -> content (string) or 'dir'. */
function probe(files: Record<string, string>): TreeProbe {
  return {
    read: (p) => (files[p] !== undefined && files[p] !== 'dir' ? Buffer.from(files[p]!) : null),
    kind: (p) => (files[p] === undefined ? null : files[p] === 'dir' ? 'dir' : 'file'),
  };
}

test('a Debian image with systemd as /sbin/init and sshd is systemd, apt, sshd', () => {
  const d = detectImage(
    probe({
      '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
      '/sbin/init': 'SYSTEMD-ELF',
      '/lib/systemd/systemd': 'SYSTEMD-ELF',
      '/usr/bin/apt-get': 'x',
      '/usr/sbin/sshd': 'x',
    }),
  );
  assert.deepEqual(
    { os: d.os, init: d.init, initPath: d.initPath, sshd: d.sshd, pm: d.packageManager },
    { os: 'Debian GNU/Linux 12 (bookworm)', init: 'systemd', initPath: '/sbin/init', sshd: true, pm: 'apt' },
  );
});

test('busybox init is another init; an image without any init is none', () => {
  const busybox = detectImage(probe({ '/sbin/init': 'BUSYBOX', '/etc/os-release': 'ID=alpine\n', '/sbin/apk': 'x' }));
  assert.equal(busybox.init, 'other');
  assert.equal(busybox.initPath, '/sbin/init');
  assert.equal(busybox.packageManager, 'apk');
  assert.equal(busybox.sshd, false);
  const app = detectImage(probe({ '/app/server': 'x' }));
  assert.deepEqual([app.init, app.initPath, app.os, app.packageManager], ['none', null, null, null]);
});

test('a package manager named by os-release but absent from the image is not chosen; ID_LIKE counts', () => {
  assert.equal(detectImage(probe({ '/etc/os-release': 'ID=ubuntu\n' })).packageManager, null);
  const rocky = detectImage(
    probe({ '/usr/lib/os-release': 'ID=rocky\nID_LIKE="rhel centos fedora"\n', '/usr/bin/dnf': 'x' }),
  );
  assert.equal(rocky.packageManager, 'dnf');
});

test('systemd images get the agent as a unit; other inits get banger-init and next-init; none gets no next-init', () => {
  const base = { os: null, osId: null, osLike: [] as string[], sshd: false, packageManager: null };
  const sd = describeInjection(planInjection({ ...base, init: 'systemd', initPath: '/sbin/init' }));
  assert.ok(sd.includes('/.banger/agent'));
  assert.ok(
    sd.includes(
      '/etc/systemd/system/sysinit.target.wants/banger-agent.service -> /etc/systemd/system/banger-agent.service',
    ),
  );
  assert.ok(!sd.includes('/.banger/init'));
  const other = planInjection({ ...base, init: 'other', initPath: '/sbin/init' });
  assert.deepEqual(
    other.find((i) => i.path === '/.banger/next-init'),
    { kind: 'file', path: '/.banger/next-init', mode: 0o644, content: '/sbin/init\n' },
  );
  const none = describeInjection(planInjection({ ...base, init: 'none', initPath: null }));
  assert.deepEqual(none, ['/.banger/agent', '/.banger/init']);
  const withSshd = describeInjection(planInjection({ ...base, sshd: true, init: 'none', initPath: null }));
  assert.ok(withSshd.includes('/etc/ssh/sshd_config.d/banger.conf'));
});

test('default image names come from the repository and tag, or the digest', () => {
  assert.equal(imageNameForRef({ repository: 'library/debian', tag: 'bookworm', digest: null }), 'debian-bookworm');
  assert.equal(imageNameForRef({ repository: 'team/Dev_Box', tag: 'v1.2', digest: null }), 'dev_box-v1.2');
  assert.equal(
    imageNameForRef({ repository: 'org/img', tag: null, digest: `sha256:${'ab'.repeat(32)}` }),
    'img-abababababab',
  );
  assert.match(
    imageNameForRef({ repository: 'x', tag: `${'y'.repeat(200)}`, digest: null }),
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
  );
});

test('the sshd script installs with the image package manager and starts sshd only when nothing listens on 22', () => {
  const apt = sshdEnsureScript('apt');
  assert.match(apt, /apt-get install -y -qq --no-install-recommends openssh-server/);
  assert.match(sshdEnsureScript('apk'), /apk add --no-cache openssh-server/);
  assert.match(sshdEnsureScript('pacman'), /pacman -Sy --noconfirm openssh/);
  assert.match(apt, /:0016 /);
});

test('os-release values from the image are kept only when plain: no escape sequences reach a terminal', () => {
  const d = detectImage(
    probe({ '/etc/os-release': 'ID="deb\x1b[31mian"\nID_LIKE="ok bad\x07"\nPRETTY_NAME="Nice\x1b]0;pwned\x07 OS"\n' }),
  );
  assert.equal(d.osId, null);
  assert.deepEqual(d.osLike, ['ok']);
  assert.equal(d.os, 'Nice]0;pwned OS');
});
