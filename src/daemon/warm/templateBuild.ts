import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAgentUnknownMethod, waitForAgent, type AgentClient } from '../../agent/index.js';
import { ensureClientKey, generateHostKey } from '../../guest/index.js';
import { macForVm, tapNameForVm } from '../../hostnat/index.js';
import {
  BangerError,
  GUEST_READY_BUDGET_MS,
  type Image,
  type Kernel,
  type VmmKind,
  type VmSpec,
} from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { vmFiles, type VmFiles } from '../../paths/index.js';
import {
  allocatedBytes,
  rootFormatFor,
  shapeFileIn,
  shapeOf,
  templatePaths,
  writeShape,
  type TemplateInputs,
  type TemplateMeta,
  type TemplatePaths,
} from '../../snapshots/index.js';
import { sleep } from '../../system/index.js';
import { createRootOverlay, createWorkDisk, writeWorkDiskFiles } from '../../vmdisk/index.js';
import type { BootSpec } from '../../vmm/index.js';
import { CleanupStack } from '../cleanupStack.js';
import type { VmEnv } from '../vm/env.js';
import { sshFilesForWorkDisk } from '../vm/steps/sshKeysInstall.js';

/** What a template is built from: the key and inputs it answers to, and what boots. */
export interface TemplateRequest {
  key: string;
  inputs: TemplateInputs;
  image: Image;
  kernel: Kernel;
  spec: VmSpec;
  vmm: VmmKind;
}

/** The image's agent predates warm starts (no `identity`): its VMs always boot cold. */
export class TemplateUnsupported extends Error {}

/**
 * The files a template build's guest runs with: its disks in the build directory, sockets in
 * a runtime dir of its own. Its `dir` is named by its id (`<build>/<id>`), as a VM's is: the
 * Firecracker driver finds its jail by that name.
 */
export function buildFiles(env: VmEnv, id: string, dir: string, paths: TemplatePaths): VmFiles {
  return {
    ...vmFiles(env.d.layout, id),
    dir: join(dir, id),
    handles: join(dir, 'handles.json'),
    rootfsOverlay: paths.root,
    rootfsCopy: paths.root,
    workDisk: paths.work,
    consoleLog: join(dir, 'console.log'),
    vmmLog: join(dir, 'vmm.log'),
    shape: shapeFileIn(paths.stateDir),
  };
}

/**
 * Builds a template in `dir` (docs/howto/snapshots.md): the image booted once with no guest
 * address on a tap of its own, waited for (agent, sshd, a settled systemd), quiesced by the
 * agent (sync, caches dropped), paused, its state saved, its VMM stopped, and its disks
 * frozen read-only. Everything it started is undone whether it succeeds or not; the caller
 * commits `dir` under the key, or removes it.
 */
export async function buildTemplate(env: VmEnv, req: TemplateRequest, dir: string, ctx: OpCtx): Promise<TemplateMeta> {
  const started = Date.now();
  const id = randomBytes(4).toString('hex');
  const paths = templatePaths(dir, rootFormatFor(req.vmm));
  const files = buildFiles(env, id, dir, paths);
  const undo = new CleanupStack();
  mkdirSync(files.dir, { mode: 0o700 });
  try {
    await makeDisks(env, req, paths, dir);
    const spec = await bootTemplate(env, req, id, files, ctx, undo);
    const sshd = !req.image.oci || req.image.oci.sshd;
    const client = await settle(env, req, spec, files, sshd, ctx);
    await client.quiesce(30_000);
    const pid = readPid(files);
    const driver = env.d.drivers[req.vmm];
    await driver.pause(pid, files, ctx);
    mkdirSync(paths.stateDir, { mode: 0o700 });
    await driver.saveState(pid, files, paths.stateDir, ctx);
    writeShape(shapeFileIn(paths.stateDir), shapeOf(spec, req.vmm));
    env.agents.drop(driver.agentEndpoint(files));
    await undo.unwind(); // the VMM stopped, its tap deleted
    for (const f of [paths.root, paths.work]) chmodSync(f, 0o444);
    rmSync(files.handles, { force: true });
    return {
      version: 1,
      key: req.key,
      inputs: { ...req.inputs },
      imageId: req.image.id,
      imageName: req.image.name,
      createdAt: new Date().toISOString(),
      sizeBytes: allocatedBytes(dir),
      sshd,
      buildMs: Date.now() - started,
    };
  } finally {
    await undo.unwind();
    rmSync(files.runtimeDir, { recursive: true, force: true });
  }
}

/** The template's root layer over the image and its work disk from the seed, with the user's key and a throwaway host key. */
async function makeDisks(env: VmEnv, req: TemplateRequest, paths: TemplatePaths, dir: string): Promise<void> {
  const { runner, config } = env.d;
  const { spec, image } = req;
  await createRootOverlay(
    runner,
    image.rootfsPath,
    paths.root,
    spec.systemOverlaySizeBytes,
    rootFormatFor(req.vmm) === 'qcow2' ? 'qcow2' : 'copy',
  );
  await createWorkDisk(runner, image.workSeedPath, paths.work, spec.diskSizeBytes);
  // sshd needs a host key to start; every clone is given its own before anyone can connect.
  const keyPath = join(dir, 'template_host_key');
  const hostPub = await generateHostKey(runner, keyPath, 'banger-template');
  const clientKey = await ensureClientKey(runner, config.ssh_key_path);
  await writeWorkDiskFiles(runner, paths.work, sshFilesForWorkDisk(clientKey, readFileSync(keyPath, 'utf8'), hostPub));
  rmSync(keyPath, { force: true });
  rmSync(`${keyPath}.pub`, { force: true });
}

/** A tap of the build's own (deleted by `undo`), then the VMM booting the template's guest with no address. */
async function bootTemplate(
  env: VmEnv,
  req: TemplateRequest,
  id: string,
  files: VmFiles,
  ctx: OpCtx,
  undo: CleanupStack,
): Promise<BootSpec> {
  const { d } = env;
  await env.pinnedNetwork.ensure(ctx);
  await d.privileged.ensureBridge({}, ctx);
  const tap = tapNameForVm(id);
  await d.privileged.createTap({ name: tap }, ctx);
  undo.push('delete the template tap', () => d.privileged.deleteTap({ name: tap }, ctx));
  const spec: BootSpec = {
    vmId: id,
    hostname: `warm-${req.key.slice(0, 8)}`,
    vcpu: req.spec.vcpu,
    memoryMib: req.spec.memoryMib,
    kernelPath: req.kernel.kernelPath,
    initrdPath: req.kernel.initrdPath,
    rootDisk: { path: files.rootfsOverlay, format: rootFormatFor(req.vmm) },
    workDisk: files.workDisk,
    network: {
      tap,
      mac: macForVm(id),
      addressCidr: null,
      gateway: d.config.bridge_ip,
      dns: d.config.default_dns ?? d.config.bridge_ip,
    },
    files,
  };
  const driver = d.drivers[req.vmm];
  const vmm = await driver.start(spec, ctx);
  undo.push('release what the template VMM left', () => driver.release(files, ctx));
  undo.push('stop the template VMM', () => driver.hardStop(vmm.pid, files, ctx));
  // For the next daemon's tidy, should this one die mid-build.
  writeFileSync(files.handles, `${JSON.stringify({ pid: vmm.pid, tap, vmm: req.vmm, id })}\n`, { mode: 0o600 });
  return spec;
}

function readPid(files: VmFiles): number {
  return (JSON.parse(readFileSync(files.handles, 'utf8')) as { pid: number }).pid;
}

/**
 * Waits until the template's guest is as a VM would be when ready: its agent answers and
 * can give clones an identity, sshd listens (when the image has it), and a systemd guest
 * has finished starting its units (so clones do not redo that work).
 */
async function settle(
  env: VmEnv,
  req: TemplateRequest,
  spec: BootSpec,
  files: VmFiles,
  sshd: boolean,
  ctx: OpCtx,
): Promise<AgentClient> {
  const driver = env.d.drivers[req.vmm];
  const endpoint = driver.agentEndpoint(files);
  const pid = readPid(files);
  const health = await waitForAgent(endpoint, {
    connect: (ms) => env.agents.client(endpoint, ms),
    timeoutMs: GUEST_READY_BUDGET_MS,
    ...(ctx.signal && { signal: ctx.signal }),
    isDead: () => !driver.owns(pid, files),
  });
  if (!health) throw new TemplateUnsupported(`image ${req.image.name} has no banger agent`);
  const client = await env.agents.client(endpoint, 2_000);
  try {
    await client.identity({}, 5_000);
  } catch (e) {
    if (isAgentUnknownMethod(e))
      throw new TemplateUnsupported(
        `the agent in image ${req.image.name} cannot give clones an identity (${(e as Error).message})`,
      );
    throw e;
  }
  if (sshd) await waitForListener(client, 22, spec.hostname);
  const systemd = !req.image.oci || req.image.oci.init === 'systemd';
  if (systemd)
    await client
      .exec({ argv: ['systemctl', 'is-system-running', '--wait'], timeout_ms: 60_000 })
      .catch(() => undefined); // "degraded" or a missing systemctl is no reason to give up
  return client;
}

async function waitForListener(client: AgentClient, port: number, what: string): Promise<void> {
  const deadline = Date.now() + GUEST_READY_BUDGET_MS;
  while (Date.now() < deadline) {
    const ports = await client.ports(5_000).catch(() => []);
    if (ports.some((l) => l.port === port && l.proto.startsWith('tcp'))) return;
    await sleep(200);
  }
  throw new BangerError('operation_failed', `template ${what}: nothing listened on port ${port} in time`);
}
