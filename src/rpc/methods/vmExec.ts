import { z } from 'zod';
import { agentHealthSchema } from '../../model/index.js';
import { defineMethod } from '../methodDef.js';

// A command in a guest through its agent, and the agent's health and round trip.

/** What a command's argv, env and cwd may take on the agent's wire (its request lines are capped at 1 MiB). */
const COMMAND_BYTES_MAX = 512 << 10;

const names = z.strictObject({ names: z.array(z.string().min(1).max(253)).min(1).max(256) });

/** A guest command (streamed), the agents' health and their round trip. */
export const VM_EXEC_METHODS = {
  'vm.exec': defineMethod({
    name: 'vm.exec',
    summary:
      "Runs a command in a running VM through its agent. The command's output is sent as `output` lines (base64) while it runs; the client may send `stdin` lines (with `stdin: true`) and `signal` lines (INT, TERM, HUP, KILL: to the command's process group) after its request; closing the connection kills the command. tty {rows, cols, term}: a terminal session on a pty (output merged into stdout, stdin open, signals to its foreground process group, `resize` lines {rows, cols} set its size); with tty an empty argv runs the guest's default shell (root's login shell, else /bin/sh, else busybox sh). The result is its exit code, or the signal that ended it. A connection to the agent that fails before the command started is retried within the readiness budget; a failure after that is transport_failed.",
    params: z
      .strictObject({
        name: z.string().min(1).max(253),
        argv: z.array(z.string().max(65_536)).max(4096),
        cwd: z
          .string()
          .max(4096)
          .refine((s) => s.startsWith('/'), 'must be an absolute path in the guest')
          .optional(),
        env: z
          .record(
            z
              .string()
              .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
              .max(256),
            z.string().max(65_536),
          )
          .optional(),
        stdin: z.boolean().default(false),
        tty: z
          .strictObject({
            rows: z.number().int().min(1).max(10_000),
            cols: z.number().int().min(1).max(10_000),
            term: z
              .string()
              .regex(/^[A-Za-z0-9._+-]{1,63}$/)
              .optional(),
          })
          .optional(),
      })
      .refine((p) => p.argv.length > 0 || p.tty !== undefined, {
        message: 'argv must not be empty (only a tty session may leave it empty: the default shell)',
        path: ['argv'],
      })
      .refine(
        (p) => JSON.stringify([p.argv, p.env ?? {}, p.cwd ?? '']).length <= COMMAND_BYTES_MAX,
        `argv, env and cwd together must fit in ${COMMAND_BYTES_MAX >> 10} KiB (the agent reads requests of at most 1 MiB)`,
      ),
    result: z.object({ exitCode: z.number(), signal: z.number(), durationMs: z.number() }),
    tracked: true,
    progress: false,
  }),
  'vm.health': defineMethod({
    name: 'vm.health',
    summary:
      "Each named VM's agent health (boot_id, uptime, agent version, hostname) and whether its sshd accepts connections; a VM that is not running or whose agent does not answer has ok false and an error.",
    params: names,
    result: z.object({
      vms: z.array(
        z.object({
          name: z.string(),
          ok: z.boolean(),
          health: agentHealthSchema.nullable(),
          ssh: z.boolean(),
          error: z.string().nullable(),
        }),
      ),
    }),
    tracked: false,
    progress: false,
  }),
  'vm.ping': defineMethod({
    name: 'vm.ping',
    summary:
      "A round trip to each named VM's agent, with its latency in milliseconds (ok false and an error when it fails).",
    params: names,
    result: z.object({
      vms: z.array(
        z.object({ name: z.string(), ok: z.boolean(), latencyMs: z.number().nullable(), error: z.string().nullable() }),
      ),
    }),
    tracked: false,
    progress: false,
  }),
} as const;
