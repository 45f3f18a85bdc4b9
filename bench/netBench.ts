/**
 * Agent and DNS figures (docs/reference/agent.md), taken on a running VM of the VM benchmark:
 *   - the guest agent's `health` round trip over its channel (virtio-serial under QEMU),
 *     measured by the daemon on its shared connection (`vm.ping`; target median <= 15 ms);
 *   - an A query for NAME.vm against the daemon's DNS listener, next to the same query
 *     against dnsmasq serving the same record on loopback, in the same run, alternating
 *     query by query so both see the same machine load (target ratio <= 1.5).
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { METHODS, RpcClient } from '../src/rpc/index.js';
import { formatSummary, summarize } from './stats.js';

const AGENT_ROUNDS = 60;
const DNS_QUERIES = 1000;

/**
 * The agent round trip as the daemon sees it: `vm.ping` over the daemon's socket answers the
 * latency the daemon measured on its shared agent connection (a QEMU serial port has one
 * client at a time, and the daemon holds it, so the bench cannot open its own).
 */
export async function agentHealthBench(daemonSocket: string, vmName: string): Promise<void> {
  const client = new RpcClient(daemonSocket, METHODS);
  const ping = async () => {
    const [r] = (await client.call('vm.ping', { names: [vmName] })).vms;
    if (!r?.ok || r.latencyMs === null) throw new Error(`vm.ping ${vmName}: ${r?.error ?? 'no answer'}`);
    return r.latencyMs;
  };
  for (let i = 0; i < 5; i++) await ping(); // warm up the channel
  const samples: number[] = [];
  for (let i = 0; i < AGENT_ROUNDS; i++) samples.push(await ping());
  const s = summarize(samples);
  console.log(formatSummary('agent health round trip (virtio-serial)', s));
  console.log(`target agent health median <= 15 ms            ${s.median <= 15 ? 'met' : 'NOT met'}`);
}

/** Sends `count` A queries for `name` one after another; each round trip in ms. */
async function queryTimes(port: number, name: string, count: number): Promise<number[]> {
  const sock = createSocket('udp4');
  try {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = randomInt(1, 65535);
      const msg = dnsPacket.encode({
        type: 'query',
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type: 'A', name }],
      });
      const t0 = performance.now();
      const answer = await new Promise<dnsPacket.Packet>((resolve, reject) => {
        const timer = setTimeout(() => {
          sock.off('message', onMsg);
          reject(new Error(`no DNS answer from 127.0.0.1:${port} for ${name}`));
        }, 2_000);
        const onMsg = (m: Buffer) => {
          const p = dnsPacket.decode(m);
          if (p.id !== id) return;
          clearTimeout(timer);
          sock.off('message', onMsg);
          resolve(p);
        };
        sock.on('message', onMsg);
        sock.send(msg, port, '127.0.0.1');
      });
      out.push(performance.now() - t0);
      if (!answer.answers?.length) throw new Error(`127.0.0.1:${port} has no A record for ${name}`);
    }
    return out;
  } finally {
    sock.close();
  }
}

export async function dnsBench(daemonPort: number, name: string, ip: string): Promise<void> {
  const port = 20000 + randomInt(0, 40000);
  const dnsmasq = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      `--host-record=${name},${ip}`,
      '--pid-file=',
      '--user=root',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  dnsmasq.stderr!.on('data', (d) => {
    stderr += d;
  });
  try {
    // dnsmasq is ready once it answers.
    for (let i = 0; ; i++) {
      try {
        await queryTimes(port, name, 1);
        break;
      } catch (e) {
        if (i > 50 || dnsmasq.exitCode !== null)
          throw new Error(`dnsmasq did not start: ${stderr || (e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const ours: number[] = [];
    const theirs: number[] = [];
    await queryTimes(daemonPort, name, 20);
    await queryTimes(port, name, 20);
    // Query by query in turn, so both servers see the same moments of machine load.
    for (let i = 0; i < DNS_QUERIES; i++) {
      ours.push(...(await queryTimes(daemonPort, name, 1)));
      theirs.push(...(await queryTimes(port, name, 1)));
    }
    // Loopback DNS answers take ~100 us: shown in microseconds.
    const o = summarize(ours.map((ms) => ms * 1000));
    const t = summarize(theirs.map((ms) => ms * 1000));
    console.log(formatSummary(`DNS A ${name} via bangerd`, o, 'us'));
    console.log(formatSummary(`DNS A ${name} via dnsmasq (baseline)`, t, 'us'));
    console.log(`ratio bangerd / dnsmasq DNS (median)           ${(o.median / t.median).toFixed(2)}   (target <= 1.5)`);
  } finally {
    dnsmasq.kill('SIGTERM');
  }
}
