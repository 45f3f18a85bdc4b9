import { randomBytes } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import type { HostNeed } from '../../doctor/index.js';
import { allocateGuestIp, macForVm } from '../../hostnat/index.js';
import { findKernelEntry } from '../../kernelcat/index.js';
import {
  BangerError,
  dnsNameOf,
  formatSize,
  resolveVmDefaults,
  specOf,
  vmNameProblem,
  vmSpecProblem,
  type Image,
  type RootOverlay,
  type Vm,
  type VmmKind,
  type VmSpec,
} from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { chooseRootOverlay, selectVmm, type VmmSetting } from '../../vmm/index.js';
import { CleanupStack } from '../cleanupStack.js';
import type { VmEnv } from './env.js';
import { startVm } from './start.js';
import { disksCreate } from './steps/disksCreate.js';
import { recordInsert } from './steps/recordInsert.js';
import { sshKeysInstall } from './steps/sshKeysInstall.js';
import type { CreateState, CreateStep } from './steps/state.js';
import { runSteps } from './steps/step.js';
import { vmDirMake } from './steps/vmDirMake.js';
import type { CreateParams } from './types.js';

/** A create, in order; each step pushes its own undo, and a failure unwinds them newest first. */
export const CREATE_STEPS: readonly CreateStep[] = [vmDirMake, recordInsert, disksCreate, sshKeysInstall];

/** A name a new VM may take: a DNS label no VM has. */
export function checkNewName(env: VmEnv, name: string): void {
  const problem = vmNameProblem(name);
  if (problem)
    throw new BangerError('bad_request', problem, {
      hint: 'names are DNS labels: 1-63 of a-z, 0-9 and -, not starting or ending with -',
    });
  if (env.store.vms.nameExists(name))
    throw new BangerError('already_exists', `a VM named "${name}" already exists`, {
      hint: `pick another --name, or delete it with \`banger vm delete ${name}\``,
    });
}

/** Validates everything a create needs before anything is made, so bad input leaves no trace. */
export function resolveCreate(env: VmEnv, p: CreateParams): { name: string; spec: VmSpec; imageName: string } {
  if (p.name !== undefined) checkNewName(env, p.name);
  const defaults = specOf(
    resolveVmDefaults(env.d.config.vm_defaults, { cpus: availableParallelism(), memoryBytes: totalmem() }),
  );
  const spec: VmSpec = {
    vcpu: p.vcpu ?? defaults.vcpu,
    memoryMib: p.memoryMib ?? defaults.memoryMib,
    diskSizeBytes: p.diskSizeBytes ?? defaults.diskSizeBytes,
    systemOverlaySizeBytes: defaults.systemOverlaySizeBytes,
  };
  const problem = vmSpecProblem(spec, { memoryBytes: totalmem() });
  if (problem)
    throw new BangerError('bad_request', problem, {
      hint: 'see `banger vm create --help`; the limits are in docs/howto/vms.md',
    });
  return { name: p.name ?? env.freshName(), spec, imageName: p.image ?? env.d.config.default_image_name };
}

/**
 * The host pieces this create will use: the VM's own, QEMU's unless Firecracker will run it,
 * NAT's and the workspace's when asked for, and the pulls of a missing image and kernel.
 */
function hostNeeds(env: VmEnv, p: CreateParams, imageName: string): HostNeed[] {
  const setting = p.vmm ?? env.d.config.vmm;
  const host = env.d.hostFacts();
  const firecracker =
    setting === 'firecracker' || (setting === 'auto' && host.firecrackerBin !== null && host.kvm.usable);
  const needs: HostNeed[] = ['vm', ...env.d.images.needs(imageName)];
  if (!firecracker) needs.push('qemu');
  if (p.nat) needs.push('nat');
  if (p.workspace) needs.push('workspace');
  return needs;
}

/**
 * The back-end and root-disk strategy for a new VM (docs/howto/vms.md): from the setting, the host's
 * facts and whether the kernel suits Firecracker; refused with the reason when an explicit
 * choice cannot work here.
 */
export function chooseBackend(
  env: VmEnv,
  setting: VmmSetting,
  kernelName: string,
): { choice: ReturnType<typeof selectVmm>; rootOverlay: RootOverlay } {
  const host = env.d.hostFacts();
  const choice = selectVmm(setting, {
    firecrackerBin: host.firecrackerBin,
    kvm: host.kvm,
    kernel: { name: kernelName, firecracker: findKernelEntry(kernelName)?.firecracker ?? null },
  });
  return { choice, rootOverlay: chooseRootOverlay(env.d.config.rootfs_overlay, choice.kind, host.deviceMapper) };
}

/** What an OCI image without sshd cannot do, refused before anything is made. */
function checkImageFits(image: Image, nat: boolean, workspace: boolean): void {
  const oci = image.oci;
  if (oci?.installSshd && !nat)
    throw new BangerError('bad_request', `image ${image.name} installs openssh-server at first boot, which needs NAT`, {
      hint: 'add --nat',
    });
  if (workspace && oci && !oci.sshd && !oci.installSshd)
    throw new BangerError('bad_request', `image ${image.name} has no sshd, and a workspace is copied in over ssh`, {
      hint: `pull it again with --install-sshd (and create VMs with --nat), or run commands without a workspace: \`banger vm run --image ${image.name} -- CMD\``,
    });
}

/** Creates a VM (and, as asked, starts it and copies a workspace in). Everything that can refuse is checked before anything is made. */
export async function createVm(env: VmEnv, p: CreateParams, ctx: OpCtx): Promise<Vm> {
  const { name, spec, imageName } = resolveCreate(env, p);
  env.d.preflight?.(hostNeeds(env, p, imageName), 'creating a VM');
  if (p.nat) await env.d.nat.uplink();
  if (p.workspace && !p.start)
    throw new BangerError(
      'bad_request',
      'a workspace is copied into a running VM: it cannot be combined with --no-start',
    );
  const workspace = p.workspace ? await env.d.workspaces.preflight(p.workspace, p.nat ?? false) : null;
  ctx.progress?.('spec', `${spec.vcpu} vcpu | ${spec.memoryMib} MiB | ${formatSize(spec.diskSizeBytes)} disk`);
  const image = await env.d.images.ensure(imageName, ctx);
  checkImageFits(image, p.nat ?? false, !!workspace);
  const { choice, rootOverlay } = chooseBackend(env, p.vmm ?? env.d.config.vmm, env.d.images.kernelOf(image).name);
  ctx.progress?.('vmm', `${choice.kind} (${choice.reason}), root disk ${rootOverlay}`);
  if (choice.warning) {
    ctx.progress?.('vmm', choice.warning);
    env.d.log.warn(choice.warning, { op_id: ctx.opId });
  }
  const warm = chooseWarm(env, p, image, spec, choice.kind, ctx);
  const vm = await env.locks.run(`name:${name}`, async () => {
    if (env.store.vms.nameExists(name)) throw new BangerError('already_exists', `a VM named "${name}" already exists`);
    ctx.progress?.('preparing', 'disks and keys');
    const template = warm?.template;
    const record: Vm = {
      ...newRecord(env, { name, spec, image, vmm: choice.kind, rootOverlay, nat: p.nat ?? false }),
      ...(template && {
        rootOverlay: template.shape.rootFormat === 'qcow2' ? 'qcow2' : 'copy',
        templateKey: template.meta.key,
      }),
    };
    await makeVm(
      { env, record, files: env.files(record), image, ...(template && { template, keysByAgent: true }) },
      ctx,
    );
    return record;
  });
  // The workspace is copied over ssh, so it waits for sshd whatever `ready` says.
  if (p.start) await startVm(env, vm.id, ctx, { ssh: p.ready !== 'agent' || !!workspace });
  if (workspace) {
    const running = env.show(vm.id);
    await env.locks.run(vm.id, () => env.d.workspaces.copyIn(running, env.sshTarget(running), workspace, ctx));
  }
  // Built after this VM is up, so the build does not slow its boot; later creates restore from it.
  if (warm && !warm.template) env.templates.ensureInBackground(warm.request, { opId: ctx.opId });
  return env.show(vm.id);
}

/**
 * The warm template for this create (docs/howto/snapshots.md), when warm starts are on and
 * not refused with --cold: the matching one, or none yet (`request` then builds it).
 */
function chooseWarm(env: VmEnv, p: CreateParams, image: Image, spec: VmSpec, vmm: VmmKind, ctx: OpCtx) {
  if (!env.d.config.warm_start || p.cold) return null;
  const kernel = env.d.images.kernelOf(image);
  const inputs = env.templates.inputsFor(image, kernel, spec, vmm);
  const template = env.templates.lookup(inputs, ctx);
  ctx.progress?.(
    'warm',
    template
      ? `restoring from template ${template.meta.key}`
      : 'no warm template yet: booting (one is built afterwards)',
  );
  return { template, request: { inputs, image, kernel, spec, vmm } };
}

/** A new VM's record: a fresh id, the next free address, its MAC and DNS name. */
export function newRecord(
  env: VmEnv,
  o: { name: string; spec: VmSpec; image: Image; vmm: VmmKind; rootOverlay: RootOverlay; nat: boolean },
): Vm {
  let id: string;
  do {
    id = randomBytes(4).toString('hex');
  } while (env.store.vms.idExists(id));
  const now = new Date().toISOString();
  const guestIp = allocateGuestIp(env.d.config.bridge_ip, env.d.config.cidr, env.store.vms.usedIps());
  return {
    id,
    name: o.name,
    state: 'created',
    imageId: o.image.id,
    imageName: o.image.name,
    spec: o.spec,
    guestIp,
    mac: macForVm(id),
    vmDir: env.files({ id }).dir,
    dnsName: dnsNameOf(o.name),
    vmm: o.vmm,
    rootOverlay: o.rootOverlay,
    nat: o.nat,
    workspace: null,
    createdAt: now,
    touchedAt: now,
    lastError: null,
    suspended: null,
    templateKey: null,
  };
}

/** Runs the create steps; on failure they are undone, newest first, and the error propagates. */
export async function makeVm(
  state: CreateState,
  ctx: OpCtx,
  steps: readonly CreateStep[] = CREATE_STEPS,
): Promise<void> {
  const undo = new CleanupStack();
  try {
    await runSteps(steps, state, ctx, undo);
    undo.commit();
    state.env.refreshSshConfig();
  } catch (e) {
    const errors = await undo.unwind();
    if (errors.length)
      state.env.d.log.warn('cleanup after a failed create was incomplete', { op_id: ctx.opId, errors });
    throw e;
  }
}
