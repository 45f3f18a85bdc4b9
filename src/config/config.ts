/**
 * The typed, fully-defaulted configuration. Precedence (docs/architecture.md):
 * built-in defaults < config file < environment (BANGER_LOG_LEVEL) < command-line flags
 * (flags are applied by the command that owns them).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { BangerError, DEFAULT_BRIDGE_NAME } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { configFileSchema, LOG_LEVELS, type ConfigFile, type LogLevel } from './schema.js';

export interface FileSyncEntry {
  host: string;
  guest: string;
  /** null: files 0600, directories 0700. */
  mode: number | null;
}

export interface Config {
  /** The file this config came from, and whether it existed. */
  source: { path: string; exists: boolean };
  log_level: LogLevel;
  vmm: 'auto' | 'firecracker' | 'qemu';
  accel: 'auto' | 'kvm' | 'tcg';
  /** null: look up `firecracker` on PATH. */
  firecracker_bin: string | null;
  jailer_bin: string;
  jailer_enabled: boolean;
  warm_start: boolean;
  /** null: look up `qemu-system-x86_64` on PATH. */
  qemu_bin: string | null;
  ssh_key_path: string;
  default_image_name: string;
  default_image_source: 'auto' | 'mmdebstrap' | 'oci';
  default_image_oci_base: string;
  /** null: the kernel catalog's default. */
  default_kernel_name: string | null;
  bridge_name: string;
  bridge_ip: string;
  cidr: number;
  tap_pool_size: number;
  /** null: the interface of the default route. */
  nat_uplink: string | null;
  /** null: the daemon's own resolver on the bridge IP. */
  default_dns: string | null;
  dns_listen: { host: string; port: number };
  /** Milliseconds; 0 = off. */
  auto_stop_stale_after: number;
  /** Milliseconds. */
  stats_poll_interval: number;
  rootfs_overlay: 'auto' | 'dm-snapshot' | 'qcow2' | 'copy';
  /** Only the keys the user set; resolution against host heuristics lives in model/spec. */
  vm_defaults: { vcpu?: number; memoryMib?: number; diskSizeBytes?: number; systemOverlaySizeBytes?: number };
  file_sync: FileSyncEntry[];
}

export function defaultConfig(layout: Layout, path = layout.configFile): Config {
  return {
    source: { path, exists: false },
    log_level: 'info',
    vmm: 'auto',
    accel: 'auto',
    firecracker_bin: null,
    jailer_bin: '/usr/bin/jailer',
    jailer_enabled: true,
    warm_start: true,
    qemu_bin: null,
    ssh_key_path: layout.sshKey,
    default_image_name: 'debian-bookworm',
    default_image_source: 'auto',
    default_image_oci_base: 'docker.io/library/debian:bookworm',
    default_kernel_name: null,
    bridge_name: DEFAULT_BRIDGE_NAME,
    bridge_ip: '172.16.0.1',
    cidr: 24,
    tap_pool_size: 2,
    nat_uplink: null,
    default_dns: null,
    dns_listen: { host: '127.0.0.1', port: 42069 },
    auto_stop_stale_after: 0,
    stats_poll_interval: 10_000,
    rootfs_overlay: 'auto',
    vm_defaults: {},
    file_sync: [],
  };
}

function configError(path: string, message: string, hint: string): BangerError {
  return new BangerError('config_invalid', `config ${path}: ${message}`, { hint });
}

function describeIssue(path: string, issue: z.core.$ZodIssue): BangerError {
  const where = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (where ? `${where}.${k}` : k));
    return configError(
      path,
      `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`,
      'remove it or fix its spelling; every key is listed in docs/reference/config.md',
    );
  }
  // zod leaves the input out of its issues: a missing key is the one "received undefined".
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return configError(path, `key "${where}" is required`, 'see docs/reference/config.md');
  }
  return configError(path, `key "${where}": ${issue.message}`, 'see docs/reference/config.md for valid values');
}

/** Parses and validates TOML text; throws BangerError('config_invalid') naming the key and file. */
export function parseConfigText(text: string, path: string): ConfigFile {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    throw configError(
      path,
      `TOML syntax error: ${(e as Error).message.split('\n')[0]}`,
      'fix the syntax at the line shown',
    );
  }
  const result = configFileSchema.safeParse(raw);
  if (!result.success) throw describeIssue(path, result.error.issues[0]!);
  return result.data;
}

export interface LoadConfigOptions {
  layout: Layout;
  env?: NodeJS.ProcessEnv;
  /** Defaults to layout.configFile. */
  path?: string;
  home?: string;
}

/** Loads the config file (a missing file means all defaults) and applies the env override. */
export function loadConfig({
  layout,
  env = process.env,
  path = layout.configFile,
  home = env.HOME ?? '',
}: LoadConfigOptions): Config {
  const cfg = defaultConfig(layout, path);
  if (existsSync(path)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw configError(path, `cannot read: ${(e as Error).message}`, 'check the file permissions');
    }
    applyFile(cfg, parseConfigText(text, path), home);
    cfg.source.exists = true;
  }
  const envLevel = env.BANGER_LOG_LEVEL;
  if (envLevel !== undefined && envLevel !== '') {
    if (!(LOG_LEVELS as readonly string[]).includes(envLevel)) {
      throw new BangerError('config_invalid', `BANGER_LOG_LEVEL=${envLevel} is not a log level`, {
        hint: `use one of ${LOG_LEVELS.join(', ')}`,
      });
    }
    cfg.log_level = envLevel as LogLevel;
  }
  return cfg;
}

function applyFile(cfg: Config, file: ConfigFile, home: string): void {
  const { vm_defaults: vmDefaults, file_sync: fileSync, ...top } = file;
  for (const [k, v] of Object.entries(top)) {
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  if (vmDefaults) {
    cfg.vm_defaults = {
      ...(vmDefaults.vcpu !== undefined && { vcpu: vmDefaults.vcpu }),
      ...(vmDefaults.memory_mib !== undefined && { memoryMib: vmDefaults.memory_mib }),
      ...(vmDefaults.disk_size !== undefined && { diskSizeBytes: vmDefaults.disk_size }),
      ...(vmDefaults.system_overlay_size !== undefined && { systemOverlaySizeBytes: vmDefaults.system_overlay_size }),
    };
  }
  if (fileSync) {
    cfg.file_sync = fileSync.map((e) => ({
      host: e.host.startsWith('~/') ? join(home, e.host.slice(2)) : e.host,
      guest: e.guest,
      mode: e.mode ?? null,
    }));
  }
}
