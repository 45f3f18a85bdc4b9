/**
 * Port forwarding's host side: the userspace TCP proxy, who holds a busy local port (from
 * /proc), and the user's error when a listen fails.
 */
export { TcpProxy, type ProxyTarget, type TcpProxyOptions } from './proxy.js';
export { findTcpPortOwner, describePortOwner, type PortOwner } from './portOwner.js';
export {
  parseProcNetTcp,
  inodesHoldingPort,
  uidsHoldingPort,
  socketInodeOfLink,
  describeProgram,
  TCP_LISTEN,
  type ProcNetSocket,
} from './procNet.js';
export { forwardListenError } from './listenError.js';
