import { z } from 'zod';
import {
  agentHealthSchema,
  autoStopSchema,
  boundedInt,
  DISK_SIZE_LIMIT,
  MEMORY_MIB_LIMIT,
  OFFSET_LIMIT,
  VCPU_LIMIT,
  vmCreateParamsSchema,
  vmForwardSchema,
  vmSchema,
  vmStatsSchema,
} from '../../model/index.js';
import { defineMethod } from '../methodDef.js';
import { nameRef } from './names.js';

// The VM methods: lifecycle, ssh, ports, and the serial console.

const vmRef = z.strictObject({ name: z.string().min(1).max(253) });

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

const sshTargetWire = z.object({
  ip: z.string(),
  alias: z.string(),
  keyPath: z.string(),
  knownHosts: z.string(),
});

/** A VM's lifecycle, settings, ssh target and listening ports. */
export const VM_METHODS = {
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
      "One VM by name, id or unique id prefix, with its live VMM state (pid, status from QMP or the Firecracker API) and the guest agent's view (boot_id, uptime) when running; autoStop: when auto_stop_stale_after would stop it; its port forwards.",
    params: vmRef,
    result: z.object({
      vm: vmSchema,
      runtime: runtimeWire.nullable(),
      autoStop: autoStopSchema,
      forwards: z.array(vmForwardSchema),
    }),
    tracked: false,
    progress: false,
  }),
  'vm.create': defineMethod({
    name: 'vm.create',
    summary:
      'Creates a VM (obtaining its image and kernel when missing) and starts it unless start is false; waits until its agent and ssh answer. nat: outbound NAT for it. vmm: auto, firecracker or qemu (default: vmm from the config); the VM keeps its back-end. workspace: a repository copied in once it is ready (with tool bootstrap). ready: agent waits for the agent alone, not sshd (for a command run through vm.exec; a workspace still waits for sshd).',
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
      "Powers the guest off through its agent (ssh if the agent is away, then the VMM's own request where it has one: Firecracker's Ctrl-Alt-Del), with a hard stop after a timeout. Disks are kept. save: instead, the guest's memory and device state is saved into the VM's directory and its VMM stopped (the VM shows `saved`); the next vm.start resumes it where it was.",
    params: z.strictObject({ name: z.string().min(1), save: z.boolean().optional() }),
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: true,
  }),
  'vm.set': defineMethod({
    name: 'vm.set',
    summary: 'Changes vcpu, memory or work-disk size (grow only) of a stopped VM; switches NAT on or off at any time.',
    params: z.strictObject({
      name: z.string().min(1),
      vcpu: boundedInt(VCPU_LIMIT).optional(),
      memoryMib: boundedInt(MEMORY_MIB_LIMIT).optional(),
      diskSizeBytes: boundedInt(DISK_SIZE_LIMIT).optional(),
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
  'vm.pause': defineMethod({
    name: 'vm.pause',
    summary: "Stops a running VM's vCPUs; its memory stays (the VM shows `paused`, and survives a daemon restart).",
    params: nameRef,
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: false,
  }),
  'vm.resume': defineMethod({
    name: 'vm.resume',
    summary: "Runs a paused VM again, with the guest's clock stepped to the host's.",
    params: nameRef,
    result: z.object({ vm: vmSchema }),
    tracked: true,
    progress: false,
  }),
  'vm.fork': defineMethod({
    name: 'vm.fork',
    summary:
      'Snapshots a running VM (paused for the save and the disk clones, then running on unchanged) and restores it as a new VM `as` (default: a generated name) with its own hostname, address, MAC, machine-id, host key and disks.',
    params: z.strictObject({ name: z.string().min(1), as: z.string().optional() }),
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
  'vm.stats': defineMethod({
    name: 'vm.stats',
    summary:
      "The latest stats sample of VMs (all running, or the named ones; a VM not sampled yet is sampled now): vCPUs, the VMM's host CPU% and RSS, allocated and apparent size of the root and work disks, tap bytes, uptime, the guest's memory and connections (from the agent), touched time and when auto_stop_stale_after would stop it.",
    params: z.strictObject({ names: z.array(z.string().min(1).max(253)).max(1024).default([]) }),
    result: z.object({ stats: z.array(vmStatsSchema), pollIntervalMs: z.number() }),
    tracked: false,
    progress: false,
  }),
} as const;

/** A VM's serial console (listed after the workspace methods in METHODS, as ever). */
export const VM_CONSOLE_METHODS = {
  'vm.logs': defineMethod({
    name: 'vm.logs',
    summary: "The VM's serial console from a byte offset (poll with the returned offset to follow).",
    params: z.strictObject({ name: z.string().min(1), offset: boundedInt(OFFSET_LIMIT).default(0) }),
    result: z.object({ text: z.string(), offset: z.number(), vmmLog: z.string() }),
    tracked: false,
    progress: false,
  }),
} as const;
