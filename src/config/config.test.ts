import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, documentedKeys } from './index.js';
import { userLayout } from '../paths/index.js';
import { GIB } from '../model/index.js';

/** Runs `fn` with a temp layout and, unless `text` is null, a config file holding `text`. */
function withConfig(text: string | null, fn: (path: string, layout: ReturnType<typeof userLayout>) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'banger-cfg-'));
  try {
    const layout = userLayout({ home: dir, uid: 1000, env: { XDG_CONFIG_HOME: dir } });
    const path = text === null ? layout.configFile : join(dir, 'cfg.toml');
    if (text !== null) writeFileSync(path, text);
    fn(path, layout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a missing file gives every docs/reference/config.md default', () => {
  withConfig(null, (path, layout) => {
    const c = loadConfig({ layout, path, env: {} });
    assert.equal(c.source.exists, false);
    assert.equal(c.log_level, 'info');
    assert.equal(c.vmm, 'auto');
    assert.equal(c.accel, 'auto');
    assert.equal(c.jailer_bin, '/usr/bin/jailer');
    assert.equal(c.jailer_enabled, true);
    assert.equal(c.ssh_key_path, join(layout.stateDir, 'ssh', 'id_ed25519'));
    assert.equal(c.default_image_name, 'debian-bookworm');
    assert.deepEqual([c.bridge_name, c.bridge_ip, c.cidr], ['br-fc', '172.16.0.1', 24]);
    assert.deepEqual(c.dns_listen, { host: '127.0.0.1', port: 42069 });
    assert.equal(c.auto_stop_stale_after, 0);
    assert.equal(c.stats_poll_interval, 10_000);
    assert.equal(c.rootfs_overlay, 'auto');
    assert.deepEqual(c.vm_defaults, {});
  });
});

test('every key parses, with durations, sizes and file_sync', () => {
  const text = `
log_level = "debug"
vmm = "qemu"
accel = "tcg"
qemu_bin = "/usr/bin/qemu-system-x86_64"
bridge_name = "br-fc-test"
cidr = 16
tap_pool_size = 0
dns_listen = "127.0.0.1:5353"
auto_stop_stale_after = "2h30m"
stats_poll_interval = "30s"
[vm_defaults]
vcpu = 4
memory_mib = 4096
disk_size = "20G"
system_overlay_size = 4096
[[file_sync]]
host = "~/.npmrc"
guest = "~/.npmrc"
[[file_sync]]
host = "/etc/hosts"
guest = "/root/etc/hosts"
mode = "0644"
`;
  withConfig(text, (path, layout) => {
    const c = loadConfig({ layout, path, env: {}, home: '/home/ann' });
    assert.equal(c.log_level, 'debug');
    assert.equal(c.auto_stop_stale_after, 9_000_000);
    assert.equal(c.stats_poll_interval, 30_000);
    assert.deepEqual(c.dns_listen, { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(c.vm_defaults, {
      vcpu: 4,
      memoryMib: 4096,
      diskSizeBytes: 20 * GIB,
      systemOverlaySizeBytes: 4 * GIB,
    });
    assert.deepEqual(c.file_sync, [
      { host: '/home/ann/.npmrc', guest: '/root/.npmrc', mode: null },
      { host: '/etc/hosts', guest: '/root/etc/hosts', mode: 0o644 },
    ]);
  });
});

test('errors name the key and the file', () => {
  const cases: Array<[string, RegExp]> = [
    ['colour = "red"', /cfg\.toml: unknown key "colour"/],
    ['[vm_defaults]\ncpus = 2', /unknown key "vm_defaults\.cpus"/],
    ['auto_stop_stale_after = "soon"', /key "auto_stop_stale_after": "soon" is not a duration/],
    ['auto_stop_stale_after = "9s"', /key "auto_stop_stale_after": must be at least 10000 ms/],
    ['stats_poll_interval = "500ms"', /key "stats_poll_interval": must be at least 1000 ms/],
    ['[vm_defaults]\ndisk_size = "8X"', /key "vm_defaults\.disk_size": "8X" has an unknown unit/],
    ['log_level = "loud"', /key "log_level"/],
    ['cidr = 40', /key "cidr"/],
    ['bridge_name = "docker0"', /key "bridge_name": must be br-fc/],
    ['bridge_ip = "172.16.0"', /key "bridge_ip": must be an IPv4/],
    ['dns_listen = "localhost"', /key "dns_listen": must be IPv4:port/],
    ['[[file_sync]]\nhost = "/x"\nguest = "/etc/passwd"', /key "file_sync\[0\]\.guest".*under \/root/],
    ['[[file_sync]]\nhost = "/x"\nguest = "/root/../etc"', /under \/root/],
    ['[[file_sync]]\nguest = "/root/x"', /key "file_sync\[0\]\.host" is required/],
    ['[[file_sync]]\nhost = "/x"\nguest = "/root/x"\nmode = "rw"', /octal mode/],
    ['log_level = ', /TOML syntax error/],
    [
      '[vm_defaults]\nmemory_mib = 1e308',
      /key "vm_defaults\.memory_mib": must be a whole number from 128 to 1048576 MiB/,
    ],
    ['[vm_defaults]\nmemory_mib = 64', /memory_mib": must be a whole number from 128/],
    ['[vm_defaults]\nvcpu = 1.5', /key "vm_defaults\.vcpu": must be a whole number from 1 to 32/],
    ['[vm_defaults]\nvcpu = 33', /from 1 to 32/],
    ['[vm_defaults]\ndisk_size = "100T"', /key "vm_defaults\.disk_size": must be from 256M to 16T \(got 100T\)/],
    ['[vm_defaults]\nsystem_overlay_size = "1M"', /system_overlay_size": must be from 256M to 16T/],
    ['auto_stop_stale_after = "400d"', /key "auto_stop_stale_after": must be at most 365d/],
    ['tap_pool_size = 1e9', /key "tap_pool_size"/],
  ];
  for (const [text, re] of cases) {
    withConfig(text, (path, layout) => {
      assert.throws(
        () => loadConfig({ layout, path, env: {} }),
        (e: Error & { code?: string }) => {
          assert.match(e.message, re, text);
          assert.ok(e.message.includes(path), `message names the file: ${e.message}`);
          assert.equal(e.code, 'config_invalid');
          return true;
        },
      );
    });
  }
});

test('BANGER_LOG_LEVEL overrides the file and is validated', () => {
  withConfig('log_level = "error"', (path, layout) => {
    assert.equal(loadConfig({ layout, path, env: { BANGER_LOG_LEVEL: 'debug' } }).log_level, 'debug');
    assert.equal(loadConfig({ layout, path, env: {} }).log_level, 'error');
    assert.throws(() => loadConfig({ layout, path, env: { BANGER_LOG_LEVEL: 'chatty' } }), /BANGER_LOG_LEVEL=chatty/);
  });
});

test('documented keys cover every schema key', () => {
  const keys = documentedKeys().map((k) => k.key);
  for (const k of [
    'log_level',
    'vmm',
    'accel',
    'firecracker_bin',
    'jailer_bin',
    'jailer_enabled',
    'qemu_bin',
    'ssh_key_path',
    'default_image_name',
    'default_kernel_name',
    'bridge_name',
    'bridge_ip',
    'cidr',
    'tap_pool_size',
    'default_dns',
    'dns_listen',
    'auto_stop_stale_after',
    'stats_poll_interval',
    'rootfs_overlay',
    'vm_defaults.vcpu',
    'vm_defaults.memory_mib',
    'vm_defaults.disk_size',
    'vm_defaults.system_overlay_size',
    'file_sync[].host',
    'file_sync[].guest',
    'file_sync[].mode',
  ]) {
    assert.ok(keys.includes(k), k);
  }
});
