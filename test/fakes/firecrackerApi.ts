/**
 * A Firecracker API double (docs/howto/firecracker.md): an HTTP server on a unix socket that answers like
 * Firecracker 1.14.1 and validates every request against the official API definition
 * (test/fixtures/firecracker/firecracker-api-v1.14.1.yaml, with its Apache-2.0 notice): the method and path must exist; a
 * body must match its definition (required fields, types, enums, minimums, and no unknown
 * fields, as Firecracker's deny_unknown_fields does); path ids must match body ids. It keeps
 * Firecracker's state machine (pre-boot configuration, InstanceStart, running, paused, and
 * snapshot create/load with their rules, in firecrackerSnapshot.ts), answers
 * 204 on success and 400 with `fault_message` otherwise, and records every call.
 * Firecracker itself cannot run on our machines; this is what stands in for it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createSnapshot, type FcState, fullVmConfig, loadSnapshot, patchVm } from './firecrackerSnapshot.js';

export const FIRECRACKER_API_DEFINITION = join(
  import.meta.dirname ?? '',
  '..',
  '..',
  '..',
  'test',
  'fixtures',
  'firecracker',
  'firecracker-api-v1.14.1.yaml',
);

type Schema = {
  $ref?: string;
  type?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  enum?: unknown[];
  minimum?: number;
  items?: Schema;
  additionalProperties?: unknown;
};
interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>;
}
export interface ApiSpec {
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, Schema>;
}

export function loadApiSpec(path = FIRECRACKER_API_DEFINITION): ApiSpec {
  return parse(readFileSync(path, 'utf8')) as ApiSpec;
}

/** Resolves "#/definitions/X". */
export function resolveSchema(spec: ApiSpec, s: Schema): Schema {
  return s.$ref ? spec.definitions[s.$ref.replace('#/definitions/', '')]! : s;
}

/** Problems of `value` against `schema` (empty: valid), each naming the field. */
export function validateAgainst(spec: ApiSpec, schema0: Schema, value: unknown, at = 'body'): string[] {
  const schema = resolveSchema(spec, schema0);
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  const problems: string[] = [];
  const typeOk = (() => {
    switch (type) {
      case undefined:
        return true;
      case 'object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      case 'array':
        return Array.isArray(value);
      case 'string':
        return typeof value === 'string';
      case 'boolean':
        return typeof value === 'boolean';
      case 'integer':
        return Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      default:
        return true;
    }
  })();
  if (!typeOk) return [`${at}: expected ${type}, got ${Array.isArray(value) ? 'array' : typeof value}`];
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${at}: "${String(value)}" is not one of ${schema.enum.join(', ')}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum)
    problems.push(`${at}: ${value} is below the minimum ${schema.minimum}`);
  if (type === 'object' && schema.properties) {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) problems.push(`${at}: missing field \`${r}\``);
    for (const [k, v] of Object.entries(obj)) {
      const p = schema.properties[k];
      if (!p) problems.push(`${at}: unknown field \`${k}\``);
      else problems.push(...validateAgainst(spec, p, v, `${at}.${k}`));
    }
  }
  if (type === 'array' && schema.items)
    (value as unknown[]).forEach((v, i) => problems.push(...validateAgainst(spec, schema.items!, v, `${at}[${i}]`)));
  return problems;
}

/** The spec path (e.g. /drives/{drive_id}) an URL path matches, with its parameters. */
export function matchPath(spec: ApiSpec, url: string): { path: string; params: Record<string, string> } | null {
  for (const path of Object.keys(spec.paths)) {
    const names: string[] = [];
    const re = new RegExp(
      `^${path.replace(/\{(\w+)\}/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    const m = re.exec(url);
    if (m) return { path, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return null;
}

/** Configuration that Firecracker accepts only before InstanceStart. */
const PRE_BOOT_ONLY = new Set([
  '/boot-source',
  '/machine-config',
  '/drives/{drive_id}',
  '/network-interfaces/{iface_id}',
  '/vsock',
  '/logger',
  '/metrics',
  '/cpu-config',
  '/entropy',
  '/serial',
  '/balloon',
  '/mmds/config',
  '/pmem/{id}',
]);

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface FakeFirecrackerOptions {
  socketPath: string;
  /** Called on InstanceStart and after a snapshot load (the driver's tests start the guest side here, e.g. the vsock uds). */
  onStart?: (state: FakeFirecracker) => void;
  /** Called on SendCtrlAltDel (a real guest powers off; the test decides what follows). */
  onCtrlAltDel?: (state: FakeFirecracker) => void;
  /**
   * When given, files a body names are opened as Firecracker would (kernel, initrd, drives,
   * logger, metrics): through this mapping of its own view (a jail's paths) to the host's;
   * a missing one is a 400 with Firecracker's message.
   */
  hostPath?: (path: string) => string;
}

/** Body fields naming a file Firecracker opens when the call arrives, with its fault message. */
const FILE_FIELDS: Record<string, Array<[string, string]>> = {
  '/boot-source': [
    ['kernel_image_path', 'Cannot open kernel image'],
    ['initrd_path', 'Cannot open initrd file'],
  ],
  '/drives/{drive_id}': [['path_on_host', 'Unable to open the block device backing file']],
  '/logger': [['log_path', 'Failed to open the logger file']],
  '/metrics': [['metrics_path', 'Failed to open the metrics file']],
};

export class FakeFirecracker {
  readonly spec = loadApiSpec();
  readonly calls: RecordedCall[] = [];
  state: FcState = 'Not started';
  readonly config: Record<string, unknown> = {};
  private server: Server | null = null;

  constructor(private readonly o: FakeFirecrackerOptions) {}

  async listen(): Promise<void> {
    rmSync(this.o.socketPath, { force: true });
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.socketPath, () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    rmSync(this.o.socketPath, { force: true });
  }

  private reply(res: ServerResponse, call: RecordedCall, status: number, body?: unknown): void {
    call.status = status;
    this.calls.push(call);
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  private fault(res: ServerResponse, call: RecordedCall, message: string): void {
    this.reply(res, call, 400, { fault_message: message });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.method ?? 'GET').toLowerCase();
    const url = (req.url ?? '/').split('?')[0]!;
    const call: RecordedCall = {
      method: method.toUpperCase(),
      path: url,
      body: raw ? safeJson(raw) : undefined,
      status: 0,
    };
    const route = matchPath(this.spec, url);
    const op = route ? this.spec.paths[route.path]![method] : undefined;
    if (!route || !op)
      return this.fault(res, call, `Invalid request method and/or path: ${method.toUpperCase()} ${url}.`);
    if (method === 'get') return this.get(res, call, route.path);
    const bodyParam = op.parameters?.find((p) => p.in === 'body');
    if (bodyParam) {
      if (!raw) return this.fault(res, call, 'The request body is empty.');
      if (call.body === SAFE_JSON_FAILED) return this.fault(res, call, 'The request body is not valid JSON.');
      const problems = validateAgainst(this.spec, bodyParam.schema!, call.body);
      if (problems.length)
        return this.fault(
          res,
          call,
          `An error occurred when deserializing the json body of a request: ${problems.join('; ')}`,
        );
      for (const [name, value] of Object.entries(route.params)) {
        const field = (call.body as Record<string, unknown>)[name];
        if (field !== undefined && field !== value)
          return this.fault(res, call, 'The id from the path does not match the id from the body!');
      }
    }
    const snapshot = this.snapshotCall(route.path, method, call.body as Record<string, unknown>);
    if (snapshot !== undefined) return snapshot === null ? this.reply(res, call, 204) : this.fault(res, call, snapshot);
    if (method === 'put' && PRE_BOOT_ONLY.has(route.path) && this.state !== 'Not started') {
      return this.fault(res, call, 'The requested operation is not supported after starting the microVM.');
    }
    if (method === 'put' && this.o.hostPath) {
      for (const [field, message] of FILE_FIELDS[route.path] ?? []) {
        const value = (call.body as Record<string, unknown>)[field];
        if (typeof value === 'string' && !existsSync(this.o.hostPath(value)))
          return this.fault(res, call, `${message} ${value}: No such file or directory (os error 2)`);
      }
    }
    if (route.path === '/actions') {
      const action = (call.body as { action_type: string }).action_type;
      if (action === 'InstanceStart') {
        if (this.state !== 'Not started')
          return this.fault(res, call, 'The requested operation is not supported after starting the microVM.');
        if (!this.config['/boot-source'])
          return this.fault(res, call, 'Cannot start microvm without kernel configuration.');
        this.state = 'Running';
        this.o.onStart?.(this);
      } else if (action === 'SendCtrlAltDel') {
        if (this.state !== 'Running')
          return this.fault(res, call, 'The requested operation is not supported before starting the microVM.');
        this.o.onCtrlAltDel?.(this);
      }
      return this.reply(res, call, 204);
    }
    this.config[url] = call.body;
    if (route.path !== url)
      this.config[route.path] = {
        ...(this.config[route.path] as object | undefined),
        [Object.values(route.params)[0]!]: call.body,
      };
    return this.reply(res, call, 204);
  }

  /** Pause/resume and snapshots (firecrackerSnapshot.ts): a fault message, null for 204, undefined for other calls. */
  private snapshotCall(path: string, method: string, body: Record<string, unknown>): string | null | undefined {
    const hostPath = this.o.hostPath ?? ((p: string) => p);
    if (path === '/vm' && method === 'patch') return patchVm(this, body);
    if (path === '/snapshot/create') return createSnapshot(this, body, hostPath);
    if (path === '/snapshot/load') return loadSnapshot(this, body, hostPath, () => this.o.onStart?.(this));
    return undefined;
  }

  private get(res: ServerResponse, call: RecordedCall, path: string): void {
    if (path === '/')
      return this.reply(res, call, 200, {
        app_name: 'Firecracker',
        id: 'anonymous-instance',
        state: this.state,
        vmm_version: '1.14.1',
      });
    if (path === '/vm/config') return this.reply(res, call, 200, fullVmConfig(this.config));
    if (path === '/version') return this.reply(res, call, 200, { firecracker_version: '1.14.1' });
    if (path === '/machine-config')
      return this.reply(res, call, 200, this.config['/machine-config'] ?? { vcpu_count: 1, mem_size_mib: 128 });
    return this.reply(res, call, 200, this.config[path] ?? {});
  }
}

const SAFE_JSON_FAILED = Symbol('invalid JSON');
function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return SAFE_JSON_FAILED;
  }
}
