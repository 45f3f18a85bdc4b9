/**
 * Port forward throughput (docs/howto/networking.md): the daemon's userspace proxy against a
 * direct connection, in the same run, alternating run by run so both see the same load
 * (target: forwarded >= 0.8x direct, by median time). Two settings:
 *   - a loopback stand-in: a source/sink server in one process, the proxy (`portfwd/`) in
 *     another, the client here: the proxy's own cost, with nothing slower in the path;
 *   - a real guest: one VM (its own sandbox and bridge) with perl's source and sink in it,
 *     read and written directly at GUEST_IP:PORT and through `vm forward` at 127.0.0.1:LOCAL.
 * BENCH_FORWARD_MIB (default 200) per transfer, BENCH_FORWARD_RUNS (default 7) runs each.
 * The target is for the guest; the stand-in has no target (on two cores its three processes
 * share the CPU that the direct pair has to itself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/integration/harness.js';
import { createE2eSandbox } from '../test/e2e/e2eSandbox.js';
import { SINK_PL, SOURCE_PL, startInGuest } from '../test/e2e/guestServers.js';
import { formatSummary, summarize } from './stats.js';

const MIB = Number(process.env.BENCH_FORWARD_MIB ?? 200);
const RUNS = Number(process.env.BENCH_FORWARD_RUNS ?? 7);
const buildRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Endpoint {
  host: string;
  port: number;
}

/** Reads a source to its end; ms, checked to be MIB MiB. */
function download(at: Endpoint): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = connect(at);
    let n = 0;
    c.on('data', (d: Buffer) => {
      n += d.length;
    });
    c.on('end', () => (n === MIB << 20 ? resolve(performance.now() - t0) : reject(new Error(`got ${n} bytes`))));
    c.on('error', reject);
  });
}

/** Writes MIB MiB to a sink (with backpressure), half-closes, and waits for its count; ms. */
function upload(at: Endpoint): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = connect({ ...at, allowHalfOpen: true });
    const chunk = Buffer.alloc(256 << 10);
    let left = (MIB << 20) / chunk.length;
    let answer = '';
    const pump = () => {
      while (left > 0) {
        left--;
        if (!c.write(chunk)) return void c.once('drain', pump);
      }
      c.end();
    };
    c.on('connect', pump);
    c.on('data', (d) => {
      answer += d;
    });
    c.on('end', () =>
      Number(answer) === MIB << 20 ? resolve(performance.now() - t0) : reject(new Error(`sink counted ${answer}`)),
    );
    c.on('error', reject);
  });
}

/** Alternates direct and forwarded transfers (which goes first alternates too); prints both and their ratio. */
async function compare(
  label: string,
  direct: Endpoint,
  forwarded: Endpoint,
  fn: (at: Endpoint) => Promise<number>,
  target: boolean,
) {
  await fn(direct);
  await fn(forwarded); // warm both paths
  const d: number[] = [];
  const f: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2) f.push(await fn(forwarded));
    d.push(await fn(direct));
    if (!(i % 2)) f.push(await fn(forwarded));
  }
  const [sd, sf] = [summarize(d), summarize(f)];
  const rate = (ms: number) => ((MIB * 1000) / ms).toFixed(0);
  console.log(formatSummary(`${label}, direct (${rate(sd.median)} MiB/s)`, sd));
  console.log(formatSummary(`${label}, forwarded (${rate(sf.median)} MiB/s)`, sf));
  const ratio = sd.median / sf.median;
  const verdict = target ? `target >= 0.8 ${ratio >= 0.8 ? 'met' : 'NOT met'}` : '(the proxy hop alone; no target)';
  console.log(`ratio forwarded / direct throughput (median)    ${ratio.toFixed(2)}   ${verdict}`);
}

/** A child node process running `code` (an ES module), which prints its ports when it listens. */
async function nodeChild(code: string): Promise<{ child: ChildProcess; ports: number[] }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(String(d).trim().split(' ').map(Number)));
    child.once('exit', (c) => reject(new Error(`bench child exited ${c}`)));
  });
  return { child, ports };
}

/** The proxy against a direct loopback connection, each in its own process. */
async function loopbackBench(): Promise<void> {
  const server = await nodeChild(`
    import { createServer } from 'node:net';
    const chunk = Buffer.alloc(256 << 10);
    const src = createServer((c) => { let left = ${(MIB << 20) / (256 << 10)}; const pump = () => { while (left-- > 0) if (!c.write(chunk)) return void c.once('drain', pump); c.end(); }; c.on('error', () => {}); pump(); });
    const sink = createServer({ allowHalfOpen: true }, (c) => { let n = 0; c.on('data', (d) => { n += d.length; }); c.on('end', () => c.end(String(n))); c.on('error', () => {}); });
    src.listen(0, '127.0.0.1', () => sink.listen(0, '127.0.0.1', () => console.log(src.address().port + ' ' + sink.address().port)));`);
  const [srcPort, sinkPort] = server.ports as [number, number];
  const [ls, lk] = [await freePort(), await freePort()];
  const proxy = await nodeChild(`
    import { TcpProxy } from ${JSON.stringify(join(buildRoot, 'src', 'portfwd', 'index.js'))};
    import { silentLogger as log } from ${JSON.stringify(join(buildRoot, 'src', 'log', 'index.js'))};
    await TcpProxy.open({ listenHost: '127.0.0.1', listenPort: ${ls}, target: { host: '127.0.0.1', port: ${srcPort} }, log });
    await TcpProxy.open({ listenHost: '127.0.0.1', listenPort: ${lk}, target: { host: '127.0.0.1', port: ${sinkPort} }, log });
    console.log('${ls}');`);
  try {
    const lo = (port: number) => ({ host: '127.0.0.1', port });
    await compare(`loopback stand-in, read ${MIB} MiB`, lo(srcPort), lo(ls), download, false);
    await compare(`loopback stand-in, write ${MIB} MiB`, lo(sinkPort), lo(lk), upload, false);
  } finally {
    server.child.kill();
    proxy.child.kill();
  }
}

/** A real guest: perl's source and sink, directly over the bridge and through `vm forward`. */
async function guestBench(): Promise<void> {
  const e = createE2eSandbox();
  try {
    const [ls, lk] = [await freePort(), await freePort()];
    await e.ok(['vm', 'run', '-d', '--name', 'bench-fwd', '-p', `${ls}:9001`, '-p', `${lk}:9002`], 900_000);
    await startInGuest(e.s, 'bench-fwd', SOURCE_PL, ['9001', String(MIB)]);
    await startInGuest(e.s, 'bench-fwd', SINK_PL, ['9002']);
    await new Promise((r) => setTimeout(r, 2_000)); // perl starts listening
    const ip = (await e.vmJson('bench-fwd')).guestIp;
    const lo = (port: number) => ({ host: '127.0.0.1', port });
    await compare(`guest (TCG), read ${MIB} MiB`, { host: ip, port: 9001 }, lo(ls), download, true);
    await compare(`guest (TCG), write ${MIB} MiB`, { host: ip, port: 9002 }, lo(lk), upload, true);
  } finally {
    await e.teardown();
  }
}

export async function forwardBenchmarks(): Promise<void> {
  console.log(`port forward throughput (${MIB} MiB per transfer, ${RUNS} runs each, ms per transfer)`);
  await loopbackBench();
  if (process.env.BENCH_SKIP_VMS !== '1') await guestBench();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await forwardBenchmarks();
