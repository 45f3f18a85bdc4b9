import { createSocket, type Socket } from 'node:dgram';
import dnsPacket, { type Packet } from 'dns-packet';
import { BangerError } from '../model/index.js';
import type { Logger } from '../log/index.js';
import { type HostRunner, processName } from '../system/index.js';
import { fastVmAnswer } from './fastAnswer.js';
import { answerVmQuery, portOwnerFromSs, RCODE, type RunningVmLookup } from './answer.js';

/**
 * The daemon's DNS server (docs/howto/networking.md): authoritative for `.vm` (A records of running VMs,
 * NXDOMAIN for others), forwarding every other name to the host's resolvers, so guests
 * can use it as their only resolver. It listens on `dns_listen` for the host and on the
 * bridge address (port 53) for guests. Records are read from the store at query time,
 * so they follow start, stop, delete and daemon restarts without any bookkeeping.
 */
export interface VmDnsServerOptions {
  lookup: RunningVmLookup;
  upstreams: () => string[];
  log: Logger;
  runner: HostRunner;
  forwardTimeoutMs?: number;
}

export class VmDnsServer {
  private readonly sockets = new Map<string, Socket>();

  constructor(private readonly o: VmDnsServerOptions) {}

  /** Binds one UDP listener; a busy port is a conflict error naming the port and its owner. */
  async listen(host: string, port: number): Promise<void> {
    const key = `${host}:${port}`;
    if (this.sockets.has(key)) return;
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      // .vm questions are answered right here, synchronously; everything else goes the async way.
      const fast = fastVmAnswer(msg, this.o.lookup);
      if (fast) socket.send(fast, rinfo.port, rinfo.address);
      else void this.handle(socket, msg, rinfo.address, rinfo.port);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch(async (e: NodeJS.ErrnoException) => {
      socket.close();
      if (e.code === 'EADDRINUSE') {
        const owner = await this.portOwner(port);
        throw new BangerError('conflict', `DNS address ${key} is already in use${owner ? ` by ${owner}` : ''}`, {
          hint:
            port === 53
              ? 'stop the other DNS server on the bridge address'
              : 'set dns_listen in the config to a free port, e.g. "127.0.0.1:42070"',
        });
      }
      if (e.code === 'EACCES')
        throw new BangerError('unauthorized', `binding DNS on ${key} needs privileges`, {
          hint: 'ports below 1024 need root (or CAP_NET_BIND_SERVICE)',
        });
      throw new BangerError('operation_failed', `cannot listen for DNS on ${key}: ${e.message}`);
    });
    socket.on('error', (e) => this.o.log.warn('dns socket error', { address: key, error: e.message }));
    this.sockets.set(key, socket);
    this.o.log.info('dns listening', { address: key });
  }

  listening(): string[] {
    return [...this.sockets.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.sockets.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets.clear();
  }

  private async portOwner(port: number): Promise<string | null> {
    try {
      const r = await this.o.runner.run(['ss', '-H', '-lunp', `sport = :${port}`], {
        timeoutMs: 3000,
        allowFailure: true,
      });
      return portOwnerFromSs(r.stdout, processName);
    } catch {
      return null;
    }
  }

  private async handle(socket: Socket, msg: Buffer, address: string, port: number): Promise<void> {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // not DNS: drop it
    }
    try {
      const local = answerVmQuery(query, this.o.lookup);
      const reply = local ? dnsPacket.encode(local) : await this.forward(msg, query);
      socket.send(reply, port, address);
    } catch (e) {
      this.o.log.debug('dns query failed', { error: (e as Error).message });
      socket.send(
        dnsPacket.encode({
          id: query.id ?? 0,
          type: 'response',
          flags: (1 << 7) | RCODE.SERVFAIL,
          questions: query.questions ?? [],
        }),
        port,
        address,
      );
    }
  }

  /** Relays the query bytes to each upstream ("ip" or "ip:port") in turn; the first answer wins. */
  private async forward(msg: Buffer, query: Packet): Promise<Buffer> {
    const upstreams = this.o.upstreams();
    if (upstreams.length === 0) throw new Error(`no upstream resolver for ${query.questions?.[0]?.name}`);
    for (const upstream of upstreams) {
      const reply = await new Promise<Buffer | null>((resolve) => {
        const s = createSocket('udp4');
        const timer = setTimeout(() => {
          s.close();
          resolve(null);
        }, this.o.forwardTimeoutMs ?? 2000);
        s.once('message', (m) => {
          clearTimeout(timer);
          s.close();
          resolve(m);
        });
        s.once('error', () => {
          clearTimeout(timer);
          s.close();
          resolve(null);
        });
        const [host, port] = upstream.includes(':')
          ? [upstream.split(':')[0]!, Number(upstream.split(':')[1])]
          : [upstream, 53];
        s.send(msg, port, host);
      });
      if (reply) return reply;
    }
    throw new Error('no upstream answered');
  }
}
