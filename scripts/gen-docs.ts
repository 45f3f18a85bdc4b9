/** `npm run docs`: rewrites docs/reference/*.md from the code. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE_PAGES } from '../src/docsgen/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
for (const [path, render] of Object.entries(REFERENCE_PAGES)) {
  writeFileSync(join(root, path), render());
  console.log(`wrote ${path}`);
}
