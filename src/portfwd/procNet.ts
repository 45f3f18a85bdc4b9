/**
 * Reading the kernel's socket tables and a process's identity from /proc text (pure, so it is
 * unit-tested): which socket holds a local port (`/proc/net/tcp`, `/proc/net/tcp6`), which
 * socket a descriptor link names (`socket:[INODE]`), and how to name the program that owns it.
 * A runtime may rename its main thread (Node 24 calls it `MainThread`), so a program is named
 * from its command line and its executable, never from `/proc/PID/comm`.
 */

/** One row of /proc/net/tcp or /proc/net/tcp6. */
export interface ProcNetSocket {
  /** The local address as the kernel prints it (hex, host byte order per 32-bit word). */
  localHex: string;
  localPort: number;
  /** TCP state code: 0x0A is LISTEN. */
  state: number;
  uid: number;
  /** 0 for sockets no process holds (TIME_WAIT and the like). */
  inode: number;
}

export const TCP_LISTEN = 0x0a;

/** The rows of a /proc/net/tcp{,6} table (the header line and malformed lines are skipped). */
export function parseProcNetTcp(text: string): ProcNetSocket[] {
  const out: ProcNetSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) continue;
    const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(f[1]!);
    if (!m) continue;
    out.push({
      localHex: m[1]!.toUpperCase(),
      localPort: Number.parseInt(m[2]!, 16),
      state: Number.parseInt(f[3]!, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
    });
  }
  return out;
}

/**
 * The socket inodes that hold `port`: listeners first (the usual owner of a busy port),
 * then any other socket bound to it; sockets no process holds (inode 0) are left out.
 */
export function inodesHoldingPort(sockets: readonly ProcNetSocket[], port: number): number[] {
  const onPort = sockets.filter((s) => s.localPort === port && s.inode > 0);
  const ordered = [...onPort.filter((s) => s.state === TCP_LISTEN), ...onPort.filter((s) => s.state !== TCP_LISTEN)];
  return [...new Set(ordered.map((s) => s.inode))];
}

/** The uids of the sockets on `port` (to say whose it is when the process cannot be seen). */
export function uidsHoldingPort(sockets: readonly ProcNetSocket[], port: number): number[] {
  return [...new Set(sockets.filter((s) => s.localPort === port).map((s) => s.uid))];
}

/** The inode a `/proc/PID/fd/N` link names when it is a socket (`socket:[12345]`), else null. */
export function socketInodeOfLink(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

const MAX_PROGRAM_CHARS = 80;

/**
 * How a process is named to a user: its command line with argv[0] cut to its base name
 * (`python3 -m http.server`), else its executable's base name, else null. Long lines are
 * cut to 80 characters; control characters become spaces.
 */
export function describeProgram(cmdline: readonly string[] | null, exe: string | null): string | null {
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const exeBase = exe ? base(exe.replace(/ \(deleted\)$/, '')) : null;
  const words = (cmdline ?? []).filter((w) => w.length > 0);
  let text: string | null;
  if (words.length) text = [base(words[0]!) || exeBase || words[0]!, ...words.slice(1)].join(' ');
  else text = exeBase || null;
  if (text === null) return null;
  text = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return text.length > MAX_PROGRAM_CHARS ? `${text.slice(0, MAX_PROGRAM_CHARS - 1)}…` : text;
}
