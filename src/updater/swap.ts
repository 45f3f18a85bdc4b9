/**
 * The swap: the staged build placed beside the installed one and made `current`, the
 * helper and the daemon restarted, and doctor run with the new build against the old
 * build's baseline; a failure flips back and restarts again.
 */
import { readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  flipCurrent,
  type InstallRecord,
  libDirOf,
  nodeFor,
  placeBuild,
  readInstall,
  renderInstallToml,
  systemRestart,
} from '../install/index.js';
import { BangerError } from '../model/index.js';
import { writeFileAtomic } from '../system/index.js';
import type { UpdateDeps } from './deps.js';
import { bare } from './manifest.js';

/** One doctor check, as `banger doctor --json` prints it. */
interface DoctorCheck {
  name: string;
  status: 'PASS' | 'WARN' | 'FAIL';
  message?: string;
}

/** `banger doctor --json` of the build at `dist`, on its own runtime: its checks, or null when it did not run or printed no report. */
async function doctor(d: UpdateDeps, dist: string): Promise<{ checks: DoctorCheck[] | null; why: string }> {
  // System mode: doctor judges the system install, and never auto-starts a daemon of root's own.
  const r = await d.runner.run([nodeFor(dist), join(dist, 'banger.js'), 'doctor', '--json'], {
    allowFailure: true,
    timeoutMs: 120_000,
    env: { ...process.env, BANGER_MODE: 'system' },
  });
  try {
    const checks = JSON.parse(r.stdout) as unknown;
    if (
      Array.isArray(checks) &&
      checks.every(
        (c) =>
          c &&
          typeof (c as DoctorCheck).name === 'string' &&
          ['PASS', 'WARN', 'FAIL'].includes((c as DoctorCheck).status),
      )
    ) {
      return { checks: checks as DoctorCheck[], why: '' };
    }
  } catch {
    /* below */
  }
  return { checks: null, why: r.stderr.trim().split('\n').pop() || `exit code ${r.exitCode}` };
}

/** FAILs of `after` that were not FAILs `before` (with no baseline, every FAIL is new). */
export function newDoctorFailures(before: readonly DoctorCheck[] | null, after: readonly DoctorCheck[]): DoctorCheck[] {
  const failed = new Set((before ?? []).filter((c) => c.status === 'FAIL').map((c) => c.name));
  return after.filter((c) => c.status === 'FAIL' && !failed.has(c.name));
}

/**
 * Installs the staged build at `stagedDist`, restarts, and checks it with doctor; on any
 * failure rolls back to the previous build (restarting again) and throws `operation_failed`.
 * On success records the new build in install.toml, removes the old one, and returns the summary.
 */
export async function swapAndRestart(d: UpdateDeps, stagedDist: string, version: string, old: string): Promise<string> {
  const install = readInstall(d.layout);
  const lib = libDirOf(install.prefix);
  const previous = readlinkSync(join(lib, 'current'));
  const next = bare(version);
  // Reinstalling the running version (--force) must not replace the directory in use.
  const newDir = next === previous ? `${next}.updated` : next;
  const restart =
    d.restart ??
    (async () => {
      await systemRestart({ runner: d.runner, layout: d.layout });
    });
  d.progress(`doctor with v${bare(old)} (the baseline)`);
  const baseline = await doctor(d, join(lib, 'current'));
  d.progress(`installing v${next} beside v${bare(old)}`);
  await placeBuild(d.runner, lib, stagedDist, newDir);
  rmSync(join(lib, 'previous'), { force: true });
  symlinkSync(previous, join(lib, 'previous'));
  flipCurrent(lib, newDir);
  try {
    await restartAndCheck(d, restart, lib, baseline.checks);
  } catch (e) {
    d.progress(`the new build failed (${(e as Error).message}); rolling back to v${bare(old)}`);
    flipCurrent(lib, previous);
    rmSync(join(lib, 'previous'), { force: true });
    rmSync(join(lib, newDir), { recursive: true, force: true });
    await restart();
    throw new BangerError(
      'operation_failed',
      `update to v${next} failed: ${(e as Error).message} (rolled back to previous install, v${bare(old)})`,
      { hint: 'the VMs kept running; see the daemon log' },
    );
  }
  // Success: record the build, drop the backup.
  recordCurrentBuild(d, install, lib);
  rmSync(join(lib, 'previous'), { force: true });
  if (previous !== newDir) rmSync(join(lib, previous), { recursive: true, force: true });
  return `updated to v${next} (was v${bare(old)})`;
}

/**
 * Restarts the helper and the daemon on the build now `current`, then runs its doctor;
 * throws `operation_failed` if doctor does not run or FAILs a check the `baseline` passed.
 */
async function restartAndCheck(
  d: UpdateDeps,
  restart: () => Promise<void>,
  lib: string,
  baseline: DoctorCheck[] | null,
): Promise<void> {
  d.progress('restarting the root helper, then the daemon (VMs keep running)');
  await restart();
  d.progress('doctor with the new build');
  const after = await doctor(d, join(lib, 'current'));
  if (!after.checks) throw new BangerError('operation_failed', `doctor did not run with the new build: ${after.why}`);
  const failures = newDoctorFailures(baseline, after.checks);
  if (failures.length) {
    throw new BangerError(
      'operation_failed',
      `doctor FAILs with the new build: ${failures.map((f) => `${f.name}${f.message ? ` (${f.message})` : ''}`).join('; ')}${baseline ? '' : ' (the old build gave no baseline)'}`,
    );
  }
}

/** Records the build `current` points at (its dist/BUILD) in install.toml, keeping the rest of `install`. */
function recordCurrentBuild(d: UpdateDeps, install: InstallRecord, lib: string): void {
  const build = JSON.parse(readFileSync(join(lib, 'current', 'BUILD'), 'utf8')) as {
    version: string;
    commit: string;
    builtAt: string;
  };
  writeFileAtomic(
    d.layout.installToml,
    renderInstallToml({ ...install, version: build.version, commit: build.commit, built_at: build.builtAt }),
    0o644,
  );
}
