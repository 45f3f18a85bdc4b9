import { formatBytesIec, GIB } from '../../model/index.js';
import type { HostFacts } from '../facts.js';
import { type Check, pass, type Verdict, warn, fail } from './verdict.js';

function disk(f: HostFacts): Verdict {
  const { freeBytes, path } = f.disk;
  if (freeBytes === null) return warn(`could not measure free space at ${path}`);
  if (freeBytes < 2 * GIB) {
    return fail(
      `only ${formatBytesIec(freeBytes)} free at ${path}`,
      'images and VM disks need several GiB: free space or move the state dir',
    );
  }
  if (freeBytes < 10 * GIB) {
    return warn(
      `${formatBytesIec(freeBytes)} free at ${path}`,
      'a few VMs and images fit; `banger image cache prune` frees cache',
    );
  }
  return pass(`${formatBytesIec(freeBytes)} free at ${path}`);
}

/** What the first `banger vm run` needs: the default image and kernel, VM defaults, ssh config, disk space. In report order. */
export const DEFAULTS_CHECKS: readonly Check[] = [
  {
    name: 'default-image',
    hint: 'the first `banger vm run` builds or pulls it (this takes minutes once)',
    evaluate: ({ defaultImage: i }) =>
      i.present ? pass(`default image ${i.name} is present`) : warn(`default image ${i.name} is not present locally`),
  },
  {
    name: 'default-kernel',
    hint: 'the first `banger vm run` obtains it',
    evaluate: ({ defaultKernel: k }) =>
      k.present
        ? pass(`default kernel ${k.name ?? '(catalog default)'} is present`)
        : warn(
            `default kernel ${k.name ?? '(catalog default)'} is not present locally` +
              ` (${k.localKernels} kernel(s) installed)`,
          ),
  },
  {
    name: 'vm-defaults',
    evaluate: (f) =>
      f.vmDefaults.map((d) => ({
        name: `vm-defaults.${d.field}`,
        ...pass(`${d.shown} from ${d.source} (${d.reason})`),
      })),
  },
  {
    name: 'ssh-config',
    hint: 'add it with `banger ssh-config --install`',
    evaluate: ({ sshConfig: s }) =>
      s.hasInclude
        ? pass(`${s.path} includes banger's Host *.vm block`)
        : warn(`${s.path} has no banger Include: plain \`ssh NAME.vm\` will not work (banger vm ssh does)`),
  },
  { name: 'disk', evaluate: disk },
];
