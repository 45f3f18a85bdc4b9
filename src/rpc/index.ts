export {
  PROTOCOL_VERSION,
  MAX_REQUEST_BYTES,
  type RpcRequest,
  type ServerMessage,
  type WireError,
  type ProgressEvent,
  type ClientMessage,
  type ForwardedSignal,
  FORWARDED_SIGNALS,
  decodeClientMessage,
} from './protocol.js';
export type { InputChannel } from './clientInput.js';
export { defineMethod, type MethodDef, type MethodTable, type ParamsOf, type ResultOf } from './methodDef.js';
export { METHODS, operationWire, daemonInfoWire, type Methods, type MethodName, type DnsStatus } from './methods.js';
export { RpcServer, toWireError, type Handlers, type OpContext, type RpcServerOptions } from './server.js';
export { RpcClient, DaemonUnreachableError, type CallOptions, type InputSender } from './client.js';
