/**
 * A forward's listen failure as the user's error: a busy port names its owner (a process, our
 * own daemon, or one this user cannot see) and suggests a free alternative; a privileged port
 * says so. Nothing about the forward was stored when this is thrown.
 */
import { BangerError } from '../model/index.js';
import { describePortOwner, findTcpPortOwner, type PortOwner } from './portOwner.js';

/**
 * `e` from listening on `address:port`; `retry(port)` is the command that would use another
 * local port (e.g. `banger vm forward web 8081:80`).
 */
export function forwardListenError(
  e: NodeJS.ErrnoException,
  address: string,
  port: number,
  retry: (port: number) => string,
  lookup: (port: number) => PortOwner = findTcpPortOwner,
): BangerError {
  const other = port < 65535 ? port + 1 : port - 1;
  if (e.code === 'EADDRINUSE') {
    const owner = describePortOwner(lookup(port));
    return new BangerError('conflict', `local port ${port} is in use by ${owner}`, {
      hint: `choose another: ${retry(other)}`,
    });
  }
  if (e.code === 'EACCES')
    return new BangerError('unauthorized', `local port ${port} needs privileges to listen on`, {
      hint: `ports below 1024 need root (or CAP_NET_BIND_SERVICE); choose another: ${retry(port < 1024 ? port + 8000 : other)}`,
    });
  return new BangerError('operation_failed', `cannot listen on ${address}:${port}: ${e.message}`);
}
