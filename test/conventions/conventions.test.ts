/**
 * The codebase's conventions, enforced (docs/architecture.md): under src/ the module graph
 * (one folder, one module) is acyclic; every module has a barrel (index.ts) and other
 * modules import it only through that barrel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from '../integration/harness.js';

const SRC = join(repoRoot, 'src');

function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const moduleOf = (file: string) => relative(SRC, file).split('/')[0]!;

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]!);
}

test('src/: every module has a barrel, is imported only through it, and the module graph is acyclic', () => {
  const files = sources();
  const modules = new Set(files.map(moduleOf).filter((m) => !m.endsWith('.ts')));
  const missingBarrel = [...modules].filter((m) => !files.includes(join(SRC, m, 'index.ts')));
  assert.deepEqual(missingBarrel, [], 'modules without an index.ts');
  const deep: string[] = [];
  const edges = new Map<string, Set<string>>();
  for (const f of files) {
    for (const spec of relativeImports(f)) {
      const target = join(dirname(f), spec);
      const [from, to] = [moduleOf(f), moduleOf(target)];
      if (from === to) continue;
      if (relative(join(SRC, to), target) !== 'index.js') deep.push(`${relative(SRC, f)} imports ${spec}`);
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  assert.deepEqual(deep, [], 'imports into another module past its barrel');
  // Depth-first search for a back edge.
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (m: string, path: string[]) => {
    state.set(m, 'open');
    for (const n of edges.get(m) ?? []) {
      if (state.get(n) === 'open')
        cycles.push([...path, m, n].slice(path.indexOf(n) >= 0 ? path.indexOf(n) : 0).join(' -> '));
      else if (!state.has(n)) visit(n, [...path, m]);
    }
    state.set(m, 'done');
  };
  for (const m of edges.keys()) if (!state.has(m)) visit(m, []);
  assert.deepEqual(cycles, [], 'import cycles between modules');
});
