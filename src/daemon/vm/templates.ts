import type { TemplateSummary } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { chooseBackend, resolveCreate } from './create.js';
import type { VmEnv } from './env.js';
import type { CreateParams } from './types.js';

/**
 * `image warm NAME`: the image's template for the spec a `vm create` with the same flags
 * would get (docs/howto/snapshots.md), built now and waited for.
 */
export async function warmImage(
  env: VmEnv,
  p: Pick<CreateParams, 'vcpu' | 'memoryMib' | 'diskSizeBytes'> & { name: string },
  ctx: OpCtx,
): Promise<TemplateSummary[]> {
  const { spec } = resolveCreate(env, {
    image: p.name,
    start: false,
    vcpu: p.vcpu,
    memoryMib: p.memoryMib,
    diskSizeBytes: p.diskSizeBytes,
  });
  const image = env.d.images.show(p.name);
  const kernel = env.d.images.kernelOf(image);
  const { choice } = chooseBackend(env, env.d.config.vmm, kernel.name);
  const inputs = env.templates.inputsFor(image, kernel, spec, choice.kind);
  ctx.progress?.(
    'warm',
    `building the ${choice.kind} template of ${image.name} (${spec.vcpu} vcpu, ${spec.memoryMib} MiB)`,
  );
  await env.templates.build({ inputs, image, kernel, spec, vmm: choice.kind }, ctx);
  return env.templates.forImage(image.id);
}
