import type { Socket } from 'node:net';

/**
 * Splits a socket's bytes into newline-terminated UTF-8 lines with a size cap, so a
 * peer that never sends '\n' cannot make us buffer without bound.
 */
export function onLines(socket: Socket, maxBytes: number, onLine: (line: string) => void, onOverflow: () => void): void {
  let chunks: Buffer[] = [];
  let size = 0;
  let overflowed = false;
  socket.on('data', (data: Buffer) => {
    if (overflowed) return;
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      chunks.push(data.subarray(start, nl));
      const line = Buffer.concat(chunks).toString('utf8');
      chunks = [];
      size = 0;
      start = nl + 1;
      onLine(line);
    }
    if (start < data.length) {
      chunks.push(data.subarray(start));
      size += data.length - start;
      if (size > maxBytes) {
        overflowed = true;
        chunks = [];
        onOverflow();
      }
    }
  });
}
