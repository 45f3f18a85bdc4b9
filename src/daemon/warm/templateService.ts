import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { agentBinaryPath, buildInfo } from '../../buildinfo/index.js';
import {
  formatSize,
  type Image,
  type Kernel,
  type TemplateSummary,
  type VmmKind,
  type VmSpec,
} from '../../model/index.js';
import { tapNameForVm } from '../../hostnat/index.js';
import type { OpCtx } from '../../opctx/index.js';
import {
  rootFormatFor,
  specInputs,
  templateKey,
  templatePaths,
  TemplateStore,
  type Template,
  type TemplateInputs,
} from '../../snapshots/index.js';
import { readPidFile, which } from '../../system/index.js';
import type { VmEnv } from '../vm/env.js';
import { buildFiles, buildTemplate, TemplateUnsupported, type TemplateRequest } from './templateBuild.js';

function stamp(path: string | null): string {
  if (!path) return '-';
  try {
    const st = statSync(path);
    return `${st.size}:${Math.round(st.mtimeMs)}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

let agentDigest: string | null = null;
/** sha256 of the agent binary this build installs (read once). */
function agentStamp(): string {
  if (agentDigest === null) {
    try {
      agentDigest = createHash('sha256').update(readFileSync(agentBinaryPath())).digest('hex').slice(0, 16);
    } catch {
      agentDigest = 'none';
    }
  }
  return agentDigest;
}

/** A background build that failed is tried again after this long (`image warm` tries at once). */
const RETRY_AFTER_MS = 15 * 60_000;

/**
 * Warm templates (docs/howto/snapshots.md): finds the one that matches a VM being made,
 * discards a broken one with a warning, and builds missing ones in the background, one at
 * a time (a build boots a guest; two cores do not boot two well). Builds stop with the daemon.
 */
export class TemplateService {
  readonly store: TemplateStore;
  /** Build directories of builds running now, by key. */
  private readonly building = new Map<string, { dir: string; done: Promise<void> }>();
  private queue: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  /** Images whose agent cannot do warm starts (no `identity`): not tried again until the daemon restarts. */
  private readonly unsupported = new Set<string>();
  /** When a key's last background build failed: not retried in the background for RETRY_AFTER_MS. */
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly env: VmEnv) {
    this.store = new TemplateStore(env.d.layout.templatesDir);
  }

  /** The VMM binary a back-end runs: an upgraded QEMU or Firecracker may not load an older state. */
  private vmmBinary(vmm: VmmKind): string | null {
    const { config } = this.env.d;
    return vmm === 'qemu'
      ? (config.qemu_bin ?? which('qemu-system-x86_64'))
      : (config.firecracker_bin ?? which('firecracker'));
  }

  inputsFor(image: Image, kernel: Kernel, spec: VmSpec, vmm: VmmKind): TemplateInputs {
    return {
      imageId: image.id,
      imageDigest: image.oci?.manifestDigest ?? null,
      rootfsStamp: stamp(image.rootfsPath),
      kernel: kernel.name,
      kernelStamp: `${stamp(kernel.kernelPath)}/${stamp(kernel.initrdPath)}`,
      ...specInputs(spec),
      vmm,
      vmmStamp: stamp(this.vmmBinary(vmm)),
      agent: agentStamp(),
      banger: `${buildInfo.version}+${buildInfo.commit}`,
    };
  }

  /**
   * The usable template for `inputs`, or null. One that is there but unusable is discarded
   * with a warning (VMs made from it keep their own links to its frozen root).
   */
  lookup(inputs: TemplateInputs, ctx: OpCtx): Template | null {
    const key = templateKey(inputs);
    const t = this.store.find(key);
    if (t && 'problem' in t) {
      this.discard(key, t.problem, ctx);
      return null;
    }
    return t;
  }

  /** Removes a template that failed (a corrupt file, a restore that did not come up); VMs made from it keep their own links. */
  discard(key: string, reason: string, ctx: OpCtx): void {
    const msg = `warm template ${key} discarded: ${reason}; VMs boot cold until it is rebuilt`;
    ctx.progress?.('warm', msg);
    this.env.d.log.warn(msg, { op_id: ctx.opId });
    this.store.discard(key);
  }

  /** Starts building the template of `req` in the background unless it exists, is being built, or cannot be. */
  ensureInBackground(req: Omit<TemplateRequest, 'key'>, ctx: OpCtx): void {
    const key = templateKey(req.inputs);
    // A build that failed (a guest that never settles, say) would fail again: each retry costs a full boot.
    if (Date.now() - (this.failedAt.get(key) ?? 0) < RETRY_AFTER_MS) return;
    void this.build(req, ctx).catch((e: Error) => {
      this.failedAt.set(key, Date.now());
      this.env.d.log.warn('warm template build failed; not retried in the background for 15 minutes', {
        op_id: ctx.opId,
        image: req.image.name,
        error: e.message,
      });
    });
  }

  /** Builds the template of `req` now (after any build already queued); resolves when it exists. */
  build(req: Omit<TemplateRequest, 'key'>, ctx: OpCtx): Promise<void> {
    const key = templateKey(req.inputs);
    const running = this.building.get(key);
    if (running) return running.done;
    if (this.unsupported.has(req.image.id) || this.store.find(key)) return Promise.resolve();
    const dir = this.store.newBuildDir(key);
    const done = this.queue.then(() => this.runBuild({ ...req, key }, dir, ctx));
    this.building.set(key, { dir, done });
    this.queue = done.catch(() => undefined);
    return done.finally(() => this.building.delete(key));
  }

  private async runBuild(req: TemplateRequest, dir: string, ctx: OpCtx): Promise<void> {
    const bctx: OpCtx = { ...ctx, signal: this.abort.signal };
    const { log } = this.env.d;
    try {
      if (this.abort.signal.aborted) throw new Error('the daemon is stopping');
      log.info('building warm template', { op_id: ctx.opId, key: req.key, image: req.image.name });
      const meta = await buildTemplate(this.env, req, dir, bctx);
      this.store.commit(dir, meta);
      log.info('warm template ready', {
        op_id: ctx.opId,
        key: req.key,
        image: req.image.name,
        size: formatSize(meta.sizeBytes),
        ms: meta.buildMs,
      });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      if (e instanceof TemplateUnsupported) {
        this.unsupported.add(req.image.id);
        log.warn(`${e.message}: its VMs boot cold`, { op_id: ctx.opId });
        return;
      }
      throw e;
    }
  }

  /** The templates of an image, for `image show`. */
  forImage(imageId: string): TemplateSummary[] {
    const inUse = this.env.store.vms.templateUsers();
    return this.store
      .list()
      .filter((t) => t.meta.imageId === imageId)
      .map((t) => ({
        key: t.meta.key,
        vmm: t.shape.vmm,
        vcpu: t.shape.vcpu,
        memoryMib: t.shape.memoryMib,
        sizeBytes: t.meta.sizeBytes,
        createdAt: t.meta.createdAt,
        inUseBy: inUse.get(t.meta.key) ?? 0,
      }));
  }

  /**
   * `image delete` (`imageId`) and `image cache prune` (all): removes the templates (rebuilt
   * on demand; VMs made from them keep their own links), and every leftover of one
   * (incomplete, a dead build's scratch).
   */
  prune(imageId?: string, dryRun = false): { removed: string[]; freedBytes: number } {
    return this.store.sweep({
      dryRun,
      building: new Set([...this.building.values()].map((b) => b.dir)),
      also: (t) => imageId === undefined || t.meta.imageId === imageId,
    });
  }

  /**
   * At daemon start: the VMM of a build an earlier daemon did not finish is stopped (its
   * handles.json names it; the driver's command-line check keeps a recycled pid safe) and
   * its tap deleted; then the scratch goes.
   */
  async tidy(ctx: OpCtx): Promise<string[]> {
    const dir = this.store.dir;
    if (existsSync(dir))
      for (const name of readdirSync(dir).filter((n) => n.startsWith('.build-')))
        await this.stopLeftBuild(join(dir, name), ctx);
    return this.store.sweep({ building: new Set() }).removed;
  }

  /**
   * What a dead build left running: named by its handles.json, or, when the daemon died
   * before writing it (mid VMM start), by the build's VM directory (its id) and the pid file
   * the VMM wrote; each driver's command-line check keeps a recycled pid safe.
   */
  private async stopLeftBuild(buildDir: string, ctx: OpCtx): Promise<void> {
    let h: { pid: number | null; tap: string; vmm: VmmKind | null; id: string } | null = null;
    try {
      h = JSON.parse(readFileSync(join(buildDir, 'handles.json'), 'utf8'));
    } catch {
      const id = readdirSync(buildDir).find((n) => /^[0-9a-f]{8}$/.test(n));
      if (id) h = { pid: null, tap: tapNameForVm(id), vmm: null, id };
    }
    if (!h) return; // the build had not made its VM directory: nothing ran
    for (const kind of h.vmm ? [h.vmm] : (['qemu', 'firecracker'] as const)) {
      const driver = this.env.d.drivers[kind];
      const files = buildFiles(this.env, h.id, buildDir, templatePaths(buildDir, rootFormatFor(kind)));
      const pid = h.pid ?? readPidFile(files.pidFile);
      if (pid !== null && driver.owns(pid, files)) await driver.hardStop(pid, files, ctx).catch(() => undefined);
      await driver.release(files, ctx).catch(() => undefined);
      rmSync(files.runtimeDir, { recursive: true, force: true });
    }
    await this.env.d.privileged.deleteTap({ name: h.tap }, ctx).catch(() => undefined);
  }

  /** Daemon stop: running builds are cancelled (each undoes what it made) and waited for. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.building.values()].map((b) => b.done));
  }
}
