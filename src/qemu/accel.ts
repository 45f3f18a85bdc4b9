import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Accel } from './argv.js';
import { kvmVerdict } from '../vmm/index.js';

/**
 * accel = auto: KVM when a stock guest actually boots under it, else TCG. A paravirtual
 * KVM (kvm_pvm) hangs such guests, so it counts as unusable without a probe. The verdict
 * is remembered per host in accel-probe.json, so the probe runs once, not per start.
 */
export interface AccelFacts {
  kvmAccessible: boolean;
  pvm: boolean;
  /** Remembered verdict, if any. */
  remembered: 'usable' | 'unusable' | null;
}

export type AccelDecision =
  | { accel: Accel; reason: string; needsProbe: false }
  | { accel: null; reason: string; needsProbe: true };

export function decideAccel(setting: 'auto' | 'kvm' | 'tcg', f: AccelFacts): AccelDecision {
  if (setting === 'tcg') return { accel: 'tcg', reason: 'accel = "tcg" in config', needsProbe: false };
  if (setting === 'kvm') return { accel: 'kvm', reason: 'accel = "kvm" in config', needsProbe: false };
  // The same verdict Firecracker's selection uses: inaccessible, paravirtual or a failed probe.
  const kvm = kvmVerdict(f);
  if (!kvm.usable) return { accel: 'tcg', reason: kvm.reason, needsProbe: false };
  if (f.remembered === 'usable')
    return { accel: 'kvm', reason: 'KVM booted a probe guest on this host', needsProbe: false };
  return { accel: null, reason: 'KVM present; probing once whether it boots a guest', needsProbe: true };
}

export function readAccelFacts(probeFile: string): AccelFacts {
  let kvmAccessible = false;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    kvmAccessible = true;
  } catch {
    /* no kvm */
  }
  let remembered: AccelFacts['remembered'] = null;
  try {
    const v = (JSON.parse(readFileSync(probeFile, 'utf8')) as { kvm?: string }).kvm;
    if (v === 'usable' || v === 'unusable') remembered = v;
  } catch {
    /* never probed */
  }
  return { kvmAccessible, pvm: existsSync('/sys/module/kvm_pvm'), remembered };
}

export function rememberAccel(probeFile: string, verdict: 'usable' | 'unusable', reason: string): void {
  writeFileSync(probeFile, `${JSON.stringify({ kvm: verdict, reason, at: new Date().toISOString() })}\n`);
}
