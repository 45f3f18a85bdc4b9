/**
 * The codebase's conventions, enforced (docs/architecture.md): under src/ the module graph
 * (one folder, one module) is acyclic; every module has a barrel (index.ts) and other
 * modules import it only through that barrel; no source file is over 350 lines and no
 * function over 60 lines, except the declared tables and templates listed here with a
 * reason. Reads the TypeScript sources with the compiler's own parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../integration/harness.js';

const SRC = join(repoRoot, 'src');
const MAX_FILE_LINES = 350;
const MAX_FUNCTION_LINES = 60;

/** Functions allowed past the limit: tables and templates, each with why. */
export const LONG_FUNCTION_EXCEPTIONS: Record<string, string> = {
  'docsgen/render.ts:renderRpcReference': 'a template: the RPC reference page, prose and tables in one literal',
  'kernelcat/initScript.ts:renderInitScript': "a template: the guest initramfs's /init shell script, one literal",
};
/** Files allowed past the limit, each with why. */
export const LONG_FILE_EXCEPTIONS: Record<string, string> = {};

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

test(`src/: no file over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES} lines, but for the declared exceptions`, () => {
  const longFiles: string[] = [];
  const longFunctions: string[] = [];
  for (const f of sources()) {
    const text = readFileSync(f, 'utf8');
    const rel = relative(SRC, f);
    const lines = text.split('\n').length;
    if (lines > MAX_FILE_LINES && !(rel in LONG_FILE_EXCEPTIONS)) longFiles.push(`${rel} (${lines})`);
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
    const walk = (node: ts.Node, owner: string) => {
      let name = owner;
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const n = (node as ts.FunctionLikeDeclarationBase).name;
        name = n && ts.isIdentifier(n) ? (owner ? `${owner}.${n.text}` : n.text) : owner || '<anonymous>';
        const start = sf.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        const key = `${rel}:${name}`;
        if (end - start + 1 > MAX_FUNCTION_LINES && !(key in LONG_FUNCTION_EXCEPTIONS))
          longFunctions.push(`${key} (${end - start + 1})`);
      } else if (ts.isClassDeclaration(node) && node.name) {
        name = node.name.text;
      }
      ts.forEachChild(node, (c) => walk(c, name));
    };
    walk(sf, '');
  }
  assert.deepEqual(longFiles, [], 'files over the limit');
  assert.deepEqual(longFunctions, [], 'functions over the limit');
});
