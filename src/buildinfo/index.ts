import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Version, commit and build date of this build. The bundler (scripts/build.mjs) defines
 * __BANGER_BUILD__; unbundled runs (unit tests) fall back to package.json.
 */
export interface BuildInfo {
  version: string;
  commit: string;
  builtAt: string;
  /** True in the esbuild bundle, whose native addon sits in ./native beside it. */
  bundled: boolean;
}

declare const __BANGER_BUILD__: Omit<BuildInfo, 'bundled'> | undefined;

function fromPackageJson(): BuildInfo {
  let version = '0.0.0';
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    for (const up of ['../../..', '../..']) {
      try {
        version = (JSON.parse(readFileSync(join(here, up, 'package.json'), 'utf8')) as { version: string }).version;
        break;
      } catch {
        /* try the next candidate */
      }
    }
  } catch {
    /* keep the placeholder */
  }
  return { version, commit: 'unknown', builtAt: 'unknown', bundled: false };
}

export const buildInfo: BuildInfo =
  typeof __BANGER_BUILD__ !== 'undefined' ? { ...__BANGER_BUILD__, bundled: true } : fromPackageJson();

/** `banger v0.1.0 (commit abcd1234, built 2026-11-27T08:00:00Z)` */
export function versionLine(program: string, b: BuildInfo = buildInfo): string {
  return `${program} v${b.version} (commit ${b.commit}, built ${b.builtAt})`;
}

/** Directory of the running bundle (dist/), where bangerd.js and native/ live. */
export function bundleDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

/**
 * The guest agent binary this build installs into images: beside the bundle in
 * dist/agent/, or, for unbundled runs (tests from build/), the checkout's dist/agent/.
 * BANGER_AGENT_BINARY overrides it.
 */
export function agentBinaryPath(b: BuildInfo = buildInfo): string {
  if (process.env.BANGER_AGENT_BINARY) return process.env.BANGER_AGENT_BINARY;
  return b.bundled
    ? join(bundleDir(), 'agent', 'banger-agent')
    : join(bundleDir(), '..', '..', '..', 'dist', 'agent', 'banger-agent');
}

/**
 * banger-init (agent/init.c), PID 1 of images without systemd, injected at /.banger/init:
 * beside the agent binary (dist/agent/). BANGER_INIT_BINARY overrides it.
 */
export function initBinaryPath(b: BuildInfo = buildInfo): string {
  if (process.env.BANGER_INIT_BINARY) return process.env.BANGER_INIT_BINARY;
  return join(dirname(agentBinaryPath(b)), 'banger-init');
}

/**
 * The daemon's script (dist/bangerd.js): beside the bundle, or the checkout's dist/ for
 * unbundled runs. The daemon runs image builds in a child of it (`bangerd --import-image`).
 */
export function daemonScriptPath(b: BuildInfo = buildInfo): string {
  return b.bundled ? join(bundleDir(), 'bangerd.js') : join(bundleDir(), '..', '..', '..', 'dist', 'bangerd.js');
}

/** The system-call addon (native/hostcalls.c): beside the bundle, or the checkout's dist/. */
export function hostcallsAddonPath(b: BuildInfo = buildInfo): string {
  return b.bundled
    ? join(bundleDir(), 'native', 'hostcalls.node')
    : join(bundleDir(), '..', '..', '..', 'dist', 'native', 'hostcalls.node');
}

declare const __BANGER_UPDATE__: { manifestUrl: string; publicKeyPem: string } | undefined;

/** `banger update`'s compile-time manifest URL and release public key (docs/howto/system-install.md). */
export const updateAnchors: { manifestUrl: string; publicKeyPem: string } =
  typeof __BANGER_UPDATE__ !== 'undefined'
    ? __BANGER_UPDATE__
    : { manifestUrl: 'https://releases.banger.dev/manifest.json', publicKeyPem: 'PLACEHOLDER: unbundled run' };
