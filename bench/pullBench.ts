/**
 * `image pull` figures (issue 15), measured in one run against a real registry on
 * 127.0.0.1 (Debian's docker-registry) serving a Debian minbase image (mmdebstrap, one
 * gzip layer) and a second image that adds a layer on top of it:
 *   - pull to bootable image, cold cache: banger `image pull` against the same work done by
 *     `skopeo copy` + `umoci unpack` + `mkfs.ext4 -d` (target ratio <= 1.0);
 *   - a second pull of the image sharing the base layer: what it downloaded;
 *   - the daemon's peak RSS during a pull (target <= 150 MiB), and that of the child that
 *     flattens and builds the image (`bangerd --import-image`), reported beside it.
 * Runs in a sandbox of its own, removed at the end. Alone: `node build/bench/pullBench.js`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startDockerRegistry } from '../test/fixtures/dockerRegistry.js';
import { debianLayers, extraLayer } from '../test/fixtures/ociTestImages.js';
import { pushImage } from '../test/fixtures/registryPush.js';
import { createSandbox, distCli } from '../test/integration/harness.js';
import { formatSummary, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_PULL_RUNS ?? 3);

function rssKib(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The daemon's image-build children (`bangerd --import-image`), by pid. */
function importWorkers(daemon: number): number[] {
  try {
    const kids = readdirSync(`/proc/${daemon}/task`).flatMap((t) =>
      readFileSync(`/proc/${daemon}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
    return kids.filter((k) => {
      try {
        return readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('--import-image');
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** Runs the CLI; its wall time, stderr, and the peak RSS of the daemon and of its build child meanwhile (every 50 ms). */
function timedBanger(env: NodeJS.ProcessEnv, args: string[], daemonPid: () => number | null) {
  return new Promise<{ ms: number; stderr: string; peakRssMib: number; workerPeakMib: number }>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [distCli, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    let workerPeak = 0;
    const sampler = setInterval(() => {
      const pid = daemonPid();
      if (!pid) return;
      peak = Math.max(peak, rssKib(pid));
      for (const w of importWorkers(pid)) workerPeak = Math.max(workerPeak, rssKib(w));
    }, 50);
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => {
      clearInterval(sampler);
      if (code !== 0) reject(new Error(`banger ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms: performance.now() - t0, stderr, peakRssMib: peak / 1024, workerPeakMib: workerPeak / 1024 });
    });
  });
}

/** skopeo copy + umoci unpack + mkfs.ext4 -d of the same image, in a fresh directory. */
function baselineOnce(ref: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-pullbase-'));
  try {
    const t0 = performance.now();
    execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}/oci:bench`]);
    execFileSync('umoci', ['unpack', '--image', `${dir}/oci:bench`, `${dir}/bundle`], { stdio: 'ignore' });
    const kib = Number(execFileSync('du', ['-sk', `${dir}/bundle/rootfs`], { encoding: 'utf8' }).split('\t')[0]);
    const mib = Math.ceil(Math.max(1024, (kib * 1.5) / 1024));
    execFileSync('mkfs.ext4', [
      '-q',
      '-F',
      '-E',
      'lazy_itable_init=1,lazy_journal_init=1',
      '-d',
      `${dir}/bundle/rootfs`,
      `${dir}/rootfs.ext4`,
      `${mib}M`,
    ]);
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function pullBench(): Promise<void> {
  const reg = await startDockerRegistry();
  const s = createSandbox();
  try {
    const base = debianLayers();
    await pushImage(reg.url, 'bench/debian', '1', {
      layers: base.map((l) => l.blob),
      layerMediaType: base[0]!.mediaType,
    });
    const plus = [...base, extraLayer('etc/bench-extra', 'a second image on the same base\n')];
    await pushImage(reg.url, 'bench/debian-plus', '1', {
      layers: plus.map((l) => l.blob),
      layerMediaType: base[0]!.mediaType,
    });
    const ref = `${reg.host}/bench/debian:1`;
    const pull = (args: string[]) => timedBanger(s.env, ['image', 'pull', ...args], () => s.daemonPid());
    const coldReset = async () => {
      await s.banger(['image', 'delete', 'bench-deb']);
      await s.banger(['image', 'cache', 'prune']);
    };
    await pull([ref, '--name', 'bench-deb']); // obtains the kernel, warms the page cache
    const banger: number[] = [];
    const skopeo: number[] = [];
    let peak = 0;
    let workerPeak = 0;
    for (let i = 0; i < RUNS; i++) {
      await coldReset();
      const r = await pull([ref, '--name', 'bench-deb']);
      banger.push(r.ms);
      peak = Math.max(peak, r.peakRssMib);
      workerPeak = Math.max(workerPeak, r.workerPeakMib);
      skopeo.push(baselineOnce(ref));
    }
    const b = summarize(banger);
    const k = summarize(skopeo);
    console.log(
      `image pull (Debian minbase, ${(base[0]!.blob.length / 2 ** 20).toFixed(0)} MiB gzip layer, ${RUNS} runs, cold cache)`,
    );
    console.log(formatSummary('skopeo copy + umoci unpack + mkfs.ext4 -d', k));
    console.log(formatSummary('banger image pull (to a bootable image)', b));
    console.log(`ratio image pull / skopeo+umoci+mkfs (median)  ${(b.median / k.median).toFixed(2)}   (target <= 1.0)`);
    const second = await pull([`${reg.host}/bench/debian-plus:1`, '--name', 'bench-deb-plus']);
    const cached = (second.stderr.match(/ cached /g) ?? []).length;
    console.log(
      `second pull sharing the base: ${(second.ms / 1000).toFixed(1)} s, ${cached} of ${plus.length} layers from the cache, ${plus.length - cached} downloaded`,
    );
    console.log(`daemon peak RSS during a pull                  ${peak.toFixed(1)} MiB   (target <= 150 MiB)`);
    console.log(
      `its image-build child (bangerd --import-image) ${workerPeak.toFixed(1)} MiB peak RSS, gone after the pull`,
    );
  } finally {
    await s.banger(['daemon', 'stop']);
    await s.cleanup();
    await reg.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await pullBench();
