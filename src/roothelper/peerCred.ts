import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { peerCredAddonPath } from '../buildinfo/index.js';
import { BangerError } from '../model/index.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

let addon: { peerCred(fd: number): PeerCred } | null = null;

/**
 * The kernel's record of who is on the other end of a unix socket connection
 * (SO_PEERCRED, through the small addon in native/peercred.c): filled in at connect time,
 * so a client cannot pretend to be someone else.
 */
export function peerCredentials(socket: Socket): PeerCred {
  addon ??= createRequire(import.meta.url)(peerCredAddonPath()) as { peerCred(fd: number): PeerCred };
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new BangerError('operation_failed', 'cannot read the peer credentials: the connection has no file descriptor');
  return addon.peerCred(fd);
}
