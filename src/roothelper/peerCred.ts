import type { Socket } from 'node:net';
import { BangerError } from '../model/index.js';
import { hostcalls } from '../system/index.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * The kernel's record of who is on the other end of a unix socket connection
 * (SO_PEERCRED, through native/hostcalls.c): filled in at connect time, so a client cannot
 * pretend to be someone else.
 */
export function peerCredentials(socket: Socket): PeerCred {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new BangerError(
      'operation_failed',
      'cannot read the peer credentials: the connection has no file descriptor',
    );
  return hostcalls().peerCred(fd);
}
