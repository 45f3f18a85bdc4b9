/**
 * Renders the reference pages of docs/reference/ from the code, so they cannot drift:
 * `npm run docs` writes them and a test fails when the committed files differ.
 */
import { z } from 'zod';
import { documentedKeys } from '../config/index.js';
import { EXIT_CODES, RPC_ERROR_CODES, exitCodeOf } from '../model/index.js';
import { PRIV_METHOD_NAMES, PRIV_METHODS } from '../privops/index.js';
import { METHODS, PROTOCOL_VERSION } from '../rpc/index.js';

const GENERATED = '<!-- Generated from the code by `npm run docs`; edit the code, not this file. -->\n';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderConfigReference(): string {
  const rows = documentedKeys().map((k) => `| \`${k.key}\` | ${cell(k.shownDefault)} | ${cell(k.doc)} |`);
  return `${GENERATED}
# Configuration reference

banger reads \`~/.config/banger/config.toml\` in user mode and \`/etc/banger/config.toml\` in
system mode. Every key is optional. An unknown key, a value of the wrong type, a bad
duration or a bad size stops the daemon from starting, with a message that names the key
and the file.

Precedence, lowest first: built-in defaults, the config file, the environment
(\`BANGER_LOG_LEVEL\` overrides \`log_level\`), then command-line flags.

Durations are written like \`10s\`, \`2h30m\` or \`24h\` (units ms, s, m, h, d); \`0\` means off;
at most \`365d\`. Every number has finite bounds, given with its key; a value outside them
is refused with the key and the limit.
Sizes are a number with an optional unit K, M, G or T (powers of 1024); a bare number is MiB.

| key | default | meaning |
| --- | --- | --- |
${rows.join('\n')}

## Example

\`\`\`toml
log_level = "info"
auto_stop_stale_after = "24h"

[vm_defaults]
vcpu = 2
memory_mib = 2048
disk_size = "16G"

[[file_sync]]
host = "~/.npmrc"
guest = "~/.npmrc"
mode = "0600"
\`\`\`
`;
}

function describeSchema(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any' }) as {
    type?: string;
    properties?: Record<string, { type?: string | string[]; anyOf?: unknown[]; minimum?: number; maximum?: number }>;
    required?: string[];
  };
  if (json.type !== 'object' || !json.properties) return `\`${json.type ?? 'any'}\``;
  const props = Object.entries(json.properties);
  if (props.length === 0) return '`{}`';
  const required = new Set(json.required ?? []);
  return (
    '`{ ' +
    props
      .map(([k, p]) => {
        const t = Array.isArray(p.type) ? p.type.join(' | ') : (p.type ?? (p.anyOf ? 'union' : 'object'));
        const range = p.minimum !== undefined && p.maximum !== undefined ? ` ${p.minimum}..${p.maximum}` : '';
        return `${k}${required.has(k) ? '' : '?'}: ${t}${range}`;
      })
      .join(', ') +
    ' }`'
  );
}

export function renderRpcReference(): string {
  const methods = Object.values(METHODS).map(
    (m) =>
      `| \`${m.name}\` | ${describeSchema(m.params)} | ${describeSchema(m.result)} | ${m.tracked ? 'yes' : 'no'} | ${m.progress ? 'yes' : 'no'} | ${cell(m.summary)} |`,
  );
  const errors = Object.entries(RPC_ERROR_CODES).map(([code, reason]) => `| \`${code}\` | ${exitCodeOf(reason)} |`);
  const priv = PRIV_METHOD_NAMES.map((fn) => {
    const d = PRIV_METHODS[fn];
    return `| \`${d.wire}\` | \`${fn}\` | ${cell(describeSchema(d.params))} | ${cell(describeSchema(d.result))} | ${cell(d.doc)} |`;
  });
  return `${GENERATED}
# RPC reference

\`banger\` talks to \`bangerd\` over a unix socket (\`banger daemon socket\` prints its path;
mode 0600). Protocol version: **${PROTOCOL_VERSION}**.

## Wire format

One request per connection, newline-delimited JSON. The client sends one line:

\`\`\`json
{"v": ${PROTOCOL_VERSION}, "method": "vm.show", "params": {"name": "devbox"}}
\`\`\`

The daemon answers with zero or more progress lines, then exactly one final line:

\`\`\`json
{"type": "progress", "op_id": "op-1a2b3c4d5e", "stage": "booting", "detail": "kernel"}
{"type": "result", "op_id": "op-1a2b3c4d5e", "result": {"vm": {"name": "devbox"}}}
{"type": "error", "op_id": "op-1a2b3c4d5e", "error": {"code": "not_found", "message": "no VM named \\"devbox\\"", "hint": "see \`banger vm list\`"}}
\`\`\`

Every request gets an \`op_id\`, which is on every daemon log line written for it.
Closing the connection before the final line cancels the operation. Requests over 1 MiB,
invalid JSON, a missing or different \`v\` (\`bad_version\`), an unknown method
(\`unknown_method\`) and params that do not match the method (\`bad_request\`) are refused
before anything runs. \`banger internal rpc METHOD '{...}'\` sends a raw request.

Every number in params is a whole number within the range the table gives
(\`integer MIN..MAX\`); one outside it is a \`bad_request\` that names the field and the limit,
and nothing is stored. \`vm.create\` and \`vm.set\` also refuse more memory than the host's RAM.

A guest command (\`vm.exec\`) also sends its output before the final line, and reads the
client's input: lines the client sends after its request (other methods ignore them).

\`\`\`json
{"type": "output", "op_id": "op-1a2b3c4d5e", "stream": "stdout", "data": "aGVsbG8K"}
{"type": "stdin", "data": "aGVsbG8K"}
{"type": "stdin", "eof": true}
{"type": "signal", "signal": "INT"}
{"type": "resize", "rows": 40, "cols": 120}
\`\`\`

\`data\` is base64. \`signal\` is one of \`HUP\`, \`INT\`, \`TERM\`, \`KILL\` and goes to the
command's process group (a terminal session's foreground one). \`resize\` sets the window
size of a terminal session (\`vm.exec\` with \`tty\`; rows and cols 1-10000). While the guest has not read the stdin it was sent, the daemon stops
reading the connection.

## Methods

"tracked" methods appear in \`daemon.operations.list\`.

| method | params | result | tracked | progress | summary |
| --- | --- | --- | --- | --- | --- |
${methods.join('\n')}

## Error codes

Each error code maps to the exit code \`banger\` exits with (see exit-codes.md).

| code | exit code |
| --- | --- |
${errors.join('\n')}

## Root helper operations

The privileged operations, declared once in \`src/privops/surface.ts\`. The daemon calls them
in-process when it runs as root; otherwise it asks the root helper (\`banger-root-helper\`,
its own small executable) on its socket, one request per connection:

\`\`\`
-> {"v":1,"op_id":"op-…","method":"priv.create_tap","params":{"name":"tap-fc-…"}}
<- {"ok":true,"result":null}   or   {"ok":false,"error":{"code":"bad_request","message":"…","hint":"…"}}
\`\`\`

The helper serves only uid 0 and the install's owner, as the kernel reports the peer
(SO_PEERCRED), whatever the socket file's mode. Parameters are parsed strictly before
anything runs: an unknown key is refused, so a request cannot name a uid, a bridge, a
subnet, a DNS domain or a directory; root pins those (install.toml and its own layout). Paths
a request names are the owner's inputs under its state directory, opened once by descriptor.
Each request is one JSON log line with the op_id and the peer's uid and pid. See
[security.md](security.md) for the boundary each operation keeps.

| wire name | method | params | result | what root does |
| --- | --- | --- | --- | --- |
${priv.join('\n')}
`;
}

export function renderExitCodeReference(): string {
  const rows = Object.entries(EXIT_CODES).map(
    ([reason, { code, meaning }]) => `| ${code} | \`${reason}\` | ${cell(meaning)} |`,
  );
  return `${GENERATED}
# Exit codes

\`banger\` exits with one of these codes. In command mode (\`banger vm run ... -- CMD\` and
\`banger vm exec\`) it exits with the guest command's own status instead (128 + N when
signal N ended it, as a shell reports it), except for banger's own failures: then it
exits with a code from this table and says so on stderr. A lost connection to the guest
(its agent, or bangerd) while the command runs, or an agent that never answers within the
readiness budget (180 s), is \`transport_failed\` (125): the command did not complete and
its status is unknown. banger never reports a status it did not get from the command; a
command that itself exits 125 is told apart by banger's message on stderr (\`banger: VM …
the command did not complete …\`). Ctrl-C sends the command SIGINT (a second Ctrl-C, or
5 s later, SIGKILL) and banger exits 130.

| code | name | meaning |
| --- | --- | --- |
${rows.join('\n')}

\`bangerd --check-migrations\` has its own contract: 0 compatible, 1 migrations needed
(and safe to apply), 2 incompatible (a database written by a newer banger, or unreadable).
\`bangerd\` itself exits 7 on an invalid config and 8 when started as root in system mode.
`;
}

export const REFERENCE_PAGES = {
  'docs/reference/config.md': renderConfigReference,
  'docs/reference/rpc.md': renderRpcReference,
  'docs/reference/exit-codes.md': renderExitCodeReference,
} as const;
