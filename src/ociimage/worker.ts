/**
 * `bangerd --import-image PARAMS.json`: the child process that builds an image from
 * verified layer blobs (buildFromLayers.ts), so that parsing untrusted layers happens
 * outside the daemon: its memory (the tree model, decompression buffers, debugfs output)
 * goes away with the child, and a crash there cannot take the daemon and its VMs' agent
 * connections down.
 *
 * Contract with the daemon (importer.ts): PARAMS is a JSON file (BuildFromLayersInput);
 * progress goes to stderr as lines `banger-progress {"stage":…,"detail":…}`; the outcome
 * is one JSON object on stdout, `{"ok":true,"result":BuiltFromLayers}` or
 * `{"ok":false,"error":{code,message,hint}}`, and the exit status is 0 or 1.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { asBangerError } from '../model/index.js';
import { ExecHostRunner } from '../system/index.js';
import { type BuildFromLayersInput, buildFromLayers } from './buildFromLayers.js';

export const PROGRESS_PREFIX = 'banger-progress ';

const paramsSchema = z.strictObject({
  ref: z.string(),
  layers: z.array(z.strictObject({ digest: z.string(), path: z.string(), mediaType: z.string() })),
  dest: z.string(),
  scratchParent: z.string(),
  sizeBytes: z.number().optional(),
  installSshd: z.boolean(),
  agentBinary: z.string(),
  initBinary: z.string(),
}) satisfies z.ZodType<BuildFromLayersInput>;

export async function runImportWorker(paramsFile: string): Promise<number> {
  const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  try {
    const params = paramsSchema.parse(JSON.parse(readFileSync(paramsFile, 'utf8')));
    const result = await buildFromLayers(new ExecHostRunner(), params, (stage, detail) =>
      process.stderr.write(`${PROGRESS_PREFIX}${JSON.stringify({ stage, detail })}\n`),
    );
    say({ ok: true, result });
    return 0;
  } catch (e) {
    const err = asBangerError(e);
    say({ ok: false, error: { code: err.code, message: err.message, hint: err.hint ?? null } });
    return 1;
  }
}
