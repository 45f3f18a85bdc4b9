/**
 * The hostile owner, run as the install's (unprivileged) owner by the adversarial tests.
 * Self-contained (node: modules and the hostcalls addon only), because the tests copy it
 * beside the addon into a directory the owner can read.
 *
 *   node hostileOwner.js '{"mode":"swap", ...}'      swaps pairs of entries with
 *       renameat2(RENAME_EXCHANGE) in a tight loop until the deadline or until `stopFile`
 *       exists (the test's signal that its side of the race is done); prints {"swaps":N}
 *   node hostileOwner.js '{"mode":"requests", ...}'  sends root helper requests in a loop
 *       (a script of steps) until the deadline or the iteration count; with `until`, it
 *       goes on past `minMs` only until every named outcome was counted; prints counts
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';

interface SwapSpec {
  mode: 'swap';
  addon: string;
  pairs: Array<[string, string]>;
  durationMs: number;
  stopFile?: string;
}
/** A request; `always` runs even after an earlier step of the round failed; "$name" params take a field of an earlier result. */
interface Step {
  method: string;
  params: Record<string, unknown>;
  always?: boolean;
}
interface RequestSpec {
  mode: 'requests';
  socket: string;
  steps: Step[];
  iterations: number;
  /** The cap: no round starts after it. */
  durationMs: number;
  /** With `until`: rounds go on for at least this long, then stop once every entry of `until` has a count. */
  minMs?: number;
  until?: string[];
}
type Spec = SwapSpec | RequestSpec;

const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;

function swap(spec: SwapSpec): Record<string, number> {
  const addon = createRequire(import.meta.url)(spec.addon) as {
    renameAt2(a: number, b: string, c: number, d: string, f: number): void;
  };
  const deadline = Date.now() + spec.durationMs;
  let swaps = 0;
  let failed = 0;
  for (let turn = 0; Date.now() < deadline; turn++) {
    if (spec.stopFile && turn % 64 === 0 && existsSync(spec.stopFile)) break;
    for (const [a, b] of spec.pairs) {
      try {
        addon.renameAt2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
        swaps++;
      } catch {
        failed++;
      }
    }
  }
  return { swaps, failed };
}

function request(
  socket: string,
  method: string,
  params: unknown,
): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }> {
  return new Promise((resolve) => {
    const s = connect(socket);
    let buf = '';
    s.on('connect', () => s.write(`${JSON.stringify({ v: 1, op_id: 'op-hostile', method, params })}\n`));
    s.on('data', (d) => {
      buf += d;
    });
    s.on('end', () => {
      try {
        resolve(JSON.parse(buf));
      } catch {
        resolve({ ok: false, error: { code: 'no_answer', message: buf } });
      }
    });
    s.on('error', (e) => resolve({ ok: false, error: { code: 'connect', message: e.message } }));
  });
}

async function requests(spec: RequestSpec): Promise<Record<string, number>> {
  const counts: Record<string, number> = { rounds: 0 };
  const deadline = Date.now() + spec.durationMs;
  const minEnd = Date.now() + (spec.minMs ?? spec.durationMs);
  // Each entry of `until` is one outcome or alternatives joined by "|" (any of them counts).
  const satisfied = () => (spec.until ?? []).every((k) => k.split('|').some((alt) => (counts[alt] ?? 0) > 0));
  for (let i = 0; i < spec.iterations && Date.now() < deadline; i++) {
    if (spec.until && Date.now() >= minEnd && satisfied()) break;
    counts.rounds!++;
    const vars: Record<string, unknown> = {};
    let failed = false;
    for (const step of spec.steps) {
      if (failed && !step.always) continue;
      const params = Object.fromEntries(
        Object.entries(step.params).map(([k, v]) => [
          k,
          typeof v === 'string' && v.startsWith('$') ? vars[v.slice(1)] : v,
        ]),
      );
      const r = await request(spec.socket, step.method, params);
      const key = `${step.method} ${r.ok ? 'ok' : (r.error?.code ?? 'error')}`;
      counts[key] = (counts[key] ?? 0) + 1;
      if (r.ok && r.result && typeof r.result === 'object') Object.assign(vars, r.result);
      if (!r.ok) failed = true;
    }
  }
  return counts;
}

const spec = JSON.parse(process.argv[2]!) as Spec;
const result = spec.mode === 'swap' ? swap(spec) : await requests(spec);
process.stdout.write(`${JSON.stringify(result)}\n`);
