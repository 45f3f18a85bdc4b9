import { z } from 'zod';
import {
  agentHealthSchema,
  imageSchema,
  kernelSchema,
  vmCreateParamsSchema,
  vmSchema,
  workspaceRequestSchema,
} from '../model/index.js';
import { defineMethod } from './methodDef.js';

/**
 * The method table of bangerd: the single source of truth for method names, their
 * params and results. docs/reference/rpc.md is checked against it by a test. The shapes
 * other modules also use (a VM, an image, a kernel, the agent's health, the create and
 * workspace requests) are declared once in model/ and used here; the rest are the wire's own.
 */
const vmRef = z.strictObject({ name: z.string().min(1).max(253) });

export const operationWire = z.object({
  id: z.string(),
  kind: z.string(),
  vm: z.string().nullable(),
  stage: z.string().nullable(),
  startedAt: z.string(),
  doneAt: z.string().nullable(),
  error: z.string().nullable(),
});

export const daemonInfoWire = z.object({
  pid: z.number(),
  version: z.string(),
  commit: z.string(),
  builtAt: z.string(),
  protocolVersion: z.number(),
  mode: z.enum(['user', 'system']),
  socket: z.string(),
  stateDir: z.string(),
  configFile: z.string(),
  uptimeMs: z.number(),
});

const runtimeWire = z.object({
  pid: z.number(),
  vmm: z.string(),
  status: z.string(),
  startedAt: z.string(),
  tap: z.string(),
  /** The agent's health, or why it could not be had. */
  agent: z.union([z.object({ health: agentHealthSchema }), z.object({ error: z.string() })]),
});

export const vmPortWire = z.object({
  vm: z.string(),
  proto: z.enum(['tcp', 'tcp6', 'udp', 'udp6']),
  address: z.string(),
  port: z.number(),
  pid: z.number().nullable(),
  process: z.string().nullable(),
  endpoint: z.string().nullable(),
  url: z.string().nullable(),
});

export const dnsStatusWire = z.object({
  listening: z.array(z.string()),
  records: z.array(z.object({ name: z.string(), ip: z.string() })),
  resolved: z.object({ present: z.boolean(), routed: z.boolean(), detail: z.string() }),
  upstreams: z.array(z.string()),
  /** How to make the host resolve .vm by hand (docs/howto/networking.md recipes), for this daemon's addresses. */
  recipes: z.string(),
});

const sentWire = z.object({ bytes: z.number(), ms: z.number(), files: z.number() });

const sshTargetWire = z.object({ ip: z.string(), alias: z.string(), keyPath: z.string(), knownHosts: z.string() });
const nameRef = z.strictObject({ name: z.string().min(1).max(253) });

export const METHODS = {
  ping: defineMethod({
    name: 'ping',
    summary: "Liveness check; returns the daemon's pid, build, mode, socket and uptime.",
    params: z.strictObject({}),
    result: daemonInfoWire,
    tracked: false,
    progress: false,
  }),
  shutdown: defineMethod({
    name: 'shutdown',
    summary: 'Stops the daemon after answering. Running VMs keep running.',
    params: z.strictObject({}),
    result: z.object({ stopping: z.literal(true) }),
    tracked: true,
    progress: false,
  }),
  'daemon.operations.list': defineMethod({
    name: 'daemon.operations.list',
    summary: 'In-flight and recently finished operations: kind, id, VM, stage, started, done, error.',
    params: z.strictObject({}),
    result: z.object({ operations: z.array(operationWire) }),
    tracked: false,
    progress: false,
  }),
  'vm.list': defineMethod({
    name: 'vm.list',
    summary: 'All VMs with their state, image, address and spec.',
    params: z.strictObject({}),
    result: z.object({ vms: z.array(vmSchema) }),
    tracked: false,
    progress: false,
  }),
  'vm.show': defineMethod({
    name: 'vm.show',
    summary:
      "One VM by name, id or unique id prefix, with its live VMM state (pid, status from QMP or the Firecracker API) and the guest agent's view (boot_id, uptime) when running.",
    params: vmRef,
    result: z.object({ vm: vmSchema, runtime: runtimeWire.nullable() }),
    tracked: false,
    progress: false,
  }),
  'vm.create': defineMethod({
    name: 'vm.create',
    summary:
      'Creates a VM (obtaining its image and kernel when missing) and starts it unless start is false; waits until its agent and ssh answer. nat: outbound NAT for it. vmm: auto, firecracker or qemu (default: vmm from the config); the VM keeps its back-end. workspace: a repository copied in once it is ready (with tool bootstrap).',
    params: vmCreateParamsSchema,
    result: z.object({ vm: vmSchema, ssh: sshTargetWire }),
    tracked: true,
    progress: true,
  }),
  'vm.start': defineMethod({
    name: 'vm.start',
    summary: 'Starts a stopped VM and waits until its agent and ssh answer.',
    params: nameRef,
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: true,
  }),
  'vm.stop': defineMethod({
    name: 'vm.stop',
    summary:
      "Powers the guest off through its agent (ssh if the agent is away, then the VMM's own request where it has one: Firecracker's Ctrl-Alt-Del), with a hard stop after a timeout. Disks are kept.",
    params: nameRef,
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: true,
  }),
  'vm.set': defineMethod({
    name: 'vm.set',
    summary: 'Changes vcpu, memory or work-disk size (grow only) of a stopped VM; switches NAT on or off at any time.',
    params: z.strictObject({
      name: z.string().min(1),
      vcpu: z.number().optional(),
      memoryMib: z.number().optional(),
      diskSizeBytes: z.number().optional(),
      nat: z.boolean().optional(),
    }),
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: true,
  }),
  'vm.restart': defineMethod({
    name: 'vm.restart',
    summary: 'Stops then starts a VM (a new boot).',
    params: nameRef,
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: true,
  }),
  'vm.kill': defineMethod({
    name: 'vm.kill',
    summary: 'Sends a signal (TERM, KILL, INT, HUP) to the VMM; the VM ends up stopped.',
    params: z.strictObject({ name: z.string().min(1), signal: z.enum(['TERM', 'KILL', 'INT', 'HUP']).default('KILL') }),
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: false,
  }),
  'vm.delete': defineMethod({
    name: 'vm.delete',
    summary: 'Stops a VM and removes its disks, tap and pinned host key.',
    params: nameRef,
    result: z.object({ deleted: z.string() }),
    tracked: true,
    progress: true,
  }),
  'vm.prune': defineMethod({
    name: 'vm.prune',
    summary: 'Deletes every VM that is not running.',
    params: z.strictObject({}),
    result: z.object({ deleted: z.array(z.string()) }),
    tracked: true,
    progress: true,
  }),
  'vm.ssh_target': defineMethod({
    name: 'vm.ssh_target',
    summary: 'Address, key and known_hosts to ssh into a running VM.',
    params: nameRef,
    result: z.object({ vm: vmSchema, ssh: sshTargetWire }),
    tracked: false,
    progress: false,
  }),
  'vm.ports': defineMethod({
    name: 'vm.ports',
    summary:
      'Listening TCP/UDP sockets in running VMs (all, or the named ones), from each guest agent, with name.vm:port endpoints.',
    params: z.strictObject({ names: z.array(z.string().min(1)).default([]) }),
    result: z.object({ ports: z.array(vmPortWire) }),
    tracked: false,
    progress: false,
  }),
  'dns.status': defineMethod({
    name: 'dns.status',
    summary: 'Where the .vm DNS server listens, the records it serves, and whether systemd-resolved routes .vm to it.',
    params: z.strictObject({}),
    result: dnsStatusWire,
    tracked: false,
    progress: false,
  }),
  'vm.workspace.plan': defineMethod({
    name: 'vm.workspace.plan',
    summary:
      'What `vm run PATH` would copy (files, bytes, commit, branch) after the same checks, without creating anything: --dry-run.',
    params: workspaceRequestSchema.extend({ nat: z.boolean().default(false) }),
    result: z.object({
      root: z.string(),
      commit: z.string().nullable(),
      branch: z.string(),
      files: z.array(z.string()),
      bytes: z.number(),
      submodules: z.array(z.string()),
      toolFiles: z.array(z.string()),
    }),
    tracked: false,
    progress: false,
  }),
  'vm.workspace.prepare': defineMethod({
    name: 'vm.workspace.prepare',
    summary:
      'Copies the repository into a running VM again (from path, or from where its workspace came from); the previous copy is kept once as /root/repo.previous.',
    params: z.strictObject({
      name: z.string().min(1),
      path: z.string().min(1).optional(),
      includeUntracked: z.boolean().default(false),
    }),
    result: sentWire.extend({ vm: vmSchema }),
    tracked: true,
    progress: true,
  }),
  'vm.workspace.export': defineMethod({
    name: 'vm.workspace.export',
    summary: "The guest's commits and uncommitted changes since the base commit, as mail that `git am` applies.",
    params: z.strictObject({ name: z.string().min(1), baseCommit: z.string().min(4).optional() }),
    result: z.object({ patch: z.string(), base: z.string() }),
    tracked: true,
    progress: false,
  }),
  'vm.logs': defineMethod({
    name: 'vm.logs',
    summary: "The VM's serial console from a byte offset (poll with the returned offset to follow).",
    params: z.strictObject({ name: z.string().min(1), offset: z.number().int().min(0).default(0) }),
    result: z.object({ text: z.string(), offset: z.number(), vmmLog: z.string() }),
    tracked: false,
    progress: false,
  }),
  'image.list': defineMethod({
    name: 'image.list',
    summary: 'Managed images.',
    params: z.strictObject({}),
    result: z.object({ images: z.array(imageSchema) }),
    tracked: false,
    progress: false,
  }),
  'image.catalog': defineMethod({
    name: 'image.catalog',
    summary: 'Images banger can obtain by name.',
    params: z.strictObject({}),
    result: z.object({
      images: z.array(z.object({ name: z.string(), distro: z.string(), kernel: z.string(), installed: z.boolean() })),
    }),
    tracked: false,
    progress: false,
  }),
  'image.show': defineMethod({
    name: 'image.show',
    summary: 'One image.',
    params: nameRef,
    result: z.object({ image: imageSchema }),
    tracked: false,
    progress: false,
  }),
  'image.pull': defineMethod({
    name: 'image.pull',
    summary:
      'Obtains a catalog image (building it from the Debian mirror) and its kernel; concurrent pulls of a name coalesce.',
    params: nameRef,
    result: z.object({ image: imageSchema }),
    tracked: true,
    progress: true,
  }),
  'image.delete': defineMethod({
    name: 'image.delete',
    summary: 'Deletes an image no VM uses.',
    params: nameRef,
    result: z.object({ deleted: z.string() }),
    tracked: true,
    progress: false,
  }),
  'image.register': defineMethod({
    name: 'image.register',
    summary: 'Adopts a local rootfs (and optional work seed) with an installed kernel.',
    params: z.strictObject({
      name: z.string().min(1),
      rootfs: z.string().min(1),
      kernel: z.string().min(1),
      workSeed: z.string().optional(),
    }),
    result: z.object({ image: imageSchema }),
    tracked: true,
    progress: false,
  }),
  'kernel.list': defineMethod({
    name: 'kernel.list',
    summary: 'Installed kernels.',
    params: z.strictObject({}),
    result: z.object({ kernels: z.array(kernelSchema) }),
    tracked: false,
    progress: false,
  }),
  'kernel.catalog': defineMethod({
    name: 'kernel.catalog',
    summary: 'Kernels banger can obtain by name; firecracker: whether Firecracker can boot it (else QEMU only).',
    params: z.strictObject({}),
    result: z.object({
      kernels: z.array(
        z.object({
          name: z.string(),
          description: z.string(),
          source: z.string(),
          installed: z.boolean(),
          firecracker: z.boolean(),
        }),
      ),
    }),
    tracked: false,
    progress: false,
  }),
  'kernel.show': defineMethod({
    name: 'kernel.show',
    summary: 'One kernel.',
    params: nameRef,
    result: z.object({ kernel: kernelSchema }),
    tracked: false,
    progress: false,
  }),
  'kernel.pull': defineMethod({
    name: 'kernel.pull',
    summary: 'Obtains a catalog kernel and builds its initramfs.',
    params: nameRef,
    result: z.object({ kernel: kernelSchema }),
    tracked: true,
    progress: true,
  }),
  'kernel.rm': defineMethod({
    name: 'kernel.rm',
    summary: 'Removes a kernel no image uses.',
    params: nameRef,
    result: z.object({ deleted: z.string() }),
    tracked: true,
    progress: false,
  }),
  'kernel.import': defineMethod({
    name: 'kernel.import',
    summary: 'Adopts a kernel from a directory with vmlinuz (or vmlinux) and optional initrd.img.',
    params: z.strictObject({ name: z.string().min(1), dir: z.string().min(1) }),
    result: z.object({ kernel: kernelSchema }),
    tracked: true,
    progress: false,
  }),
} as const;

export type Methods = typeof METHODS;
export type MethodName = keyof Methods;
export type DnsStatus = z.output<typeof dnsStatusWire>;
