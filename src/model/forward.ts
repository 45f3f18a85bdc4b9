/**
 * Port forwards (`vm forward NAME [LOCAL:]GUEST_PORT`, `vm run -p LOCAL:GUEST`): a guest TCP
 * port made reachable on the host's `127.0.0.1:LOCAL` by a userspace proxy in the daemon.
 * The spec's reading (pure, shared by the CLI and the tests) and the shapes that cross the
 * wire are declared here.
 */
import { z } from 'zod';

export const PORT_MIN = 1;
export const PORT_MAX = 65535;
/** The only host address a forward listens on: the proxy is for this host's user, never the network. */
export const FORWARD_LISTEN_ADDRESS = '127.0.0.1';

/** A TCP port number, with the field named in the error. */
export const portSchema = (field: string) =>
  z
    .number({ error: `${field} must be a port number` })
    .int({ error: `${field} must be a whole port number` })
    .min(PORT_MIN, { error: `${field} must be ${PORT_MIN}-${PORT_MAX}` })
    .max(PORT_MAX, { error: `${field} must be ${PORT_MIN}-${PORT_MAX}` });

/** One forward as asked for: host port `local` to guest port `guest`. */
export const forwardSpecSchema = z.strictObject({
  local: portSchema('local port'),
  guest: portSchema('guest port'),
});
export type ForwardSpec = z.output<typeof forwardSpecSchema>;

/**
 * A stored forward and whether its listener is open: `active` while the VM runs and the
 * listener is up, `inactive` while the VM is stopped, `failed` when the VM runs but the
 * listener could not be opened (`error` says why, e.g. the port was taken while it was stopped).
 */
export const vmForwardSchema = z.object({
  vm: z.string(),
  address: z.string(),
  local: z.number(),
  guest: z.number(),
  state: z.enum(['active', 'inactive', 'failed']),
  error: z.string().nullable(),
  createdAt: z.string(),
});
export type VmForward = z.output<typeof vmForwardSchema>;

/** Reads a port word; null when it is not a port, with the problem. */
function portWord(word: string, field: string): { port: number } | { problem: string } {
  if (!/^\d{1,5}$/.test(word)) return { problem: `${field} "${word}" is not a port number` };
  const port = Number(word);
  if (port < PORT_MIN || port > PORT_MAX)
    return { problem: `${field} ${port} is out of range (${PORT_MIN}-${PORT_MAX})` };
  return { port };
}

/**
 * Reads `[LOCAL:]GUEST` (`8080:80`, or `80` for the same number on both sides): the spec, or
 * a sentence naming the field that is wrong.
 */
export function parseForwardSpec(text: string): { spec: ForwardSpec } | { problem: string } {
  const parts = text.split(':');
  if (parts.length > 2 || text.length === 0)
    return { problem: `"${text}" is not [LOCAL:]GUEST_PORT (e.g. 8080:80, or 80 for 80:80)` };
  const guest = portWord(parts[parts.length - 1]!, 'guest port');
  if ('problem' in guest) return guest;
  if (parts.length === 1) return { spec: { local: guest.port, guest: guest.port } };
  const local = portWord(parts[0]!, 'local port');
  if ('problem' in local) return local;
  return { spec: { local: local.port, guest: guest.port } };
}

/** The local port that two or more of `specs` ask for, if any. */
export function duplicateLocalPort(specs: readonly ForwardSpec[]): number | null {
  const seen = new Set<number>();
  for (const s of specs) {
    if (seen.has(s.local)) return s.local;
    seen.add(s.local);
  }
  return null;
}
