import type { z } from 'zod';
import { DAEMON_METHODS, DNS_METHODS, type dnsStatusWire } from './methods/daemon.js';
import { VM_FORWARD_METHODS } from './methods/forward.js';
import { IMAGE_METHODS } from './methods/image.js';
import { KERNEL_METHODS } from './methods/kernel.js';
import { VM_CONSOLE_METHODS, VM_METHODS } from './methods/vm.js';
import { VM_EXEC_METHODS } from './methods/vmExec.js';
import { WORKSPACE_METHODS } from './methods/workspace.js';

/**
 * The method table of bangerd: the single source of truth for method names, their
 * params and results. docs/reference/rpc.md is checked against it by a test, and lists the
 * methods in this order. The shapes other modules also use (a VM, an image, a kernel, the
 * agent's health, the create and workspace requests) are declared once in model/ and used
 * in methods/; the rest are the wire's own, declared there by noun.
 */
export const METHODS = {
  ...DAEMON_METHODS,
  ...VM_METHODS,
  ...VM_EXEC_METHODS,
  ...DNS_METHODS,
  ...WORKSPACE_METHODS,
  ...VM_CONSOLE_METHODS,
  ...VM_FORWARD_METHODS,
  ...IMAGE_METHODS,
  ...KERNEL_METHODS,
} as const;

export { operationWire, daemonInfoWire, dnsStatusWire } from './methods/daemon.js';
export { vmPortWire } from './methods/vm.js';
export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
export type DnsStatus = z.output<typeof dnsStatusWire>;
