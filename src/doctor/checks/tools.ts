import { defaultImagePath, describeDefaultImagePath } from '../../imagecat/index.js';
import { compareVersions, parseVersion } from '../../model/index.js';
import type { HostFacts } from '../facts.js';
import { HOST_PIECES, judgePieces } from '../hostPieces.js';
import { type Check, fail, pass, present, v, type Verdict, warn } from './verdict.js';

const MIN_E2FSPROGS = [1, 43] as const;

function e2fsprogs(f: HostFacts): Verdict {
  if (!present(f.mkfsExt4)) return fail('mkfs.ext4 not found: disks cannot be built', 'apt-get install e2fsprogs');
  const e2 = parseVersion(f.mkfsExt4.version);
  if (e2 && compareVersions(e2, MIN_E2FSPROGS) < 0) {
    return fail(`e2fsprogs ${v(e2)} is older than 1.43 (no mkfs.ext4 -d)`, 'upgrade e2fsprogs');
  }
  return pass(`e2fsprogs ${e2 ? v(e2) : '(version unknown)'} with mkfs.ext4 -d`);
}

/** Every missing piece of the one table at once, with the one apt command that installs them all. */
function hostPackages(f: HostFacts): Verdict {
  const missing = new Set(f.missingPieces);
  const v = judgePieces(HOST_PIECES, new Set(HOST_PIECES.map((p) => p.name).filter((n) => !missing.has(n))));
  if (!v.aptCommand) return pass(`all ${HOST_PIECES.length} host programs banger uses are installed`);
  return warn(
    `missing: ${v.missing.map((p) => `${p.name} (${p.why})`).join(', ')}`,
    `install them all at once: sudo ${v.aptCommand}`,
  );
}

/** The tools that build images and disks and reach guests. In report order. */
export const TOOL_CHECKS: readonly Check[] = [
  { name: 'host-packages', evaluate: hostPackages },
  {
    name: 'guest-agent',
    hint: 'build banger (`npm run build`, needs musl-tools) or reinstall it',
    evaluate: ({ agent: a }) =>
      present(a)
        ? pass(`${a.version ?? 'banger-agent'} (${a.path}) goes into images`)
        : fail('the guest agent binary is missing: images cannot be built and VM readiness falls back to ssh'),
  },
  { name: 'e2fsprogs', evaluate: e2fsprogs },
  {
    name: 'debugfs',
    hint: 'apt-get install e2fsprogs',
    evaluate: (f) =>
      present(f.debugfs)
        ? pass(`${f.debugfs.version ?? 'debugfs'} at ${f.debugfs.path}`)
        : fail('debugfs not found: guest files cannot be written into disks'),
  },
  {
    name: 'default-image-path',
    hint: 'default_image_source in the config chooses; docs/howto/images.md explains both',
    evaluate: (f) => {
      const b = f.defaultImageBuild;
      const host = { hasMmdebstrap: present(f.mmdebstrap), canRunAsRoot: b.canRunAsRoot };
      const line = `the default image is made with ${describeDefaultImagePath(b.source, host, b.ociBase)}`;
      // A forced mmdebstrap path that cannot run is the one dead end.
      return defaultImagePath(b.source, host) === 'mmdebstrap' && !(host.hasMmdebstrap && host.canRunAsRoot)
        ? warn(`${line}, but mmdebstrap ${host.hasMmdebstrap ? 'needs root here' : 'is not installed'}`)
        : pass(line);
    },
  },
  {
    name: 'warm-start',
    hint: 'warm_start in the config turns it on or off; docs/howto/snapshots.md',
    evaluate: (f) => {
      const w = f.warmStart;
      if (!w.enabled) return pass('off (warm_start = false): every VM boots cold');
      const mib = (w.bytes / 1024 / 1024).toFixed(0);
      return pass(
        `on: VMs restore from a matching template (built after a first cold boot); ${w.templates} template(s), ${mib} MiB in ${w.dir}`,
      );
    },
  },
  {
    name: 'ssh',
    hint: 'apt-get install openssh-client',
    evaluate: (f) =>
      present(f.ssh) && present(f.sshKeygen)
        ? pass(`${f.ssh.version ?? 'ssh'}`)
        : fail(`${present(f.ssh) ? 'ssh-keygen' : 'ssh'} not found: guests cannot be reached`),
  },
];
