/**
 * What shell completion knows about the CLI, read from its commander command tree (pure):
 * for each command path, its subcommands, its options (and which take a value), and what
 * its positional arguments and option values complete to: live VM, image or kernel names
 * (asked of `banger __complete` at TAB time), files, or nothing.
 */
import type { Command, Option } from 'commander';

/** The names `banger __complete KIND` prints. */
export const NAME_KINDS = ['vms', 'images', 'kernels'] as const;
export type NameKind = (typeof NAME_KINDS)[number];
export type ValueKind = NameKind | 'files' | 'none';

export interface CommandSpec {
  /** The words that lead to the command ('' words for the program itself: []). */
  path: string[];
  /** Subcommand names and aliases (hidden ones left out). */
  subs: string[];
  /** Every flag, short and long, with the global ones and -h/--help. */
  opts: string[];
  /** The flags that take a value (the next word is that value). */
  valueOpts: string[];
  /** What an option's value completes to, for the flags that complete to something. */
  optKinds: Array<[flag: string, kind: ValueKind]>;
  /** What each positional argument completes to; a variadic last one ends in "...". */
  args: string[];
}

/** Option values that complete to names or files: by long flag, optionally only under one command. */
const OPTION_VALUES: ReadonlyArray<{ flag: string; kind: ValueKind; under?: string }> = [
  { flag: '--image', kind: 'images' },
  { flag: '--kernel', kind: 'kernels' },
  { flag: '--path', kind: 'files' },
  { flag: '--output', kind: 'files' },
  { flag: '--rootfs', kind: 'files' },
  { flag: '--work-seed', kind: 'files' },
  { flag: '--from', kind: 'files', under: 'kernel import' },
];

/**
 * What a positional argument completes to, by the command it belongs to and its name: the
 * VM verbs' `name`/`names`, the image and kernel verbs that act on an existing one, paths.
 */
export function argKind(path: readonly string[], arg: string): ValueKind {
  if (arg === 'path') return 'files';
  const [noun, verb = ''] = path;
  if (noun === 'vm' && (arg === 'name' || arg === 'names')) return 'vms';
  if (noun === 'image' && arg === 'name' && ['show', 'delete'].includes(verb)) return 'images';
  if (noun === 'kernel' && arg === 'name' && ['show', 'rm'].includes(verb)) return 'kernels';
  return 'none';
}

function optionKind(path: readonly string[], o: Option): ValueKind {
  const hit = OPTION_VALUES.find((v) => v.flag === o.long && (v.under === undefined || v.under === path.join(' ')));
  return hit?.kind ?? 'none';
}

const isHidden = (c: Command) => (c as unknown as { _hidden?: boolean })._hidden === true;
const flagsOf = (o: Option) => [o.short, o.long].filter((f): f is string => f !== undefined);

/** One spec per command path, the program's first; a command's aliases get a copy under their path. */
export function completionSpecs(program: Command): CommandSpec[] {
  const globals = program.options.filter((o) => !o.hidden && o.long !== '--version');
  const out: CommandSpec[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const own =
      cmd === program ? cmd.options.filter((o) => !o.hidden) : [...cmd.options.filter((o) => !o.hidden), ...globals];
    const valued = own.filter((o) => o.required || o.optional);
    const subs = cmd.commands.filter((c) => !isHidden(c));
    const spec: CommandSpec = {
      path,
      subs: subs.flatMap((c) => [c.name(), ...c.aliases()]),
      opts: [...new Set([...own.flatMap(flagsOf), '-h', '--help'])],
      valueOpts: valued.flatMap(flagsOf),
      optKinds: valued.flatMap((o) => {
        const kind = optionKind(path, o);
        return kind === 'none' ? [] : flagsOf(o).map((f): [string, ValueKind] => [f, kind]);
      }),
      args: cmd.registeredArguments.map((a) => argKind(path, a.name()) + (a.variadic ? '...' : '')),
    };
    out.push(spec);
    for (const c of subs) {
      const before = out.length;
      visit(c, [...path, c.name()]);
      // An alias (`vm rm`, `image ls`) completes like its command and everything under it.
      const under = out.slice(before);
      for (const alias of c.aliases()) {
        for (const s of under) out.push({ ...s, path: [...path, alias, ...s.path.slice(path.length + 1)] });
      }
    }
  };
  visit(program, []);
  return out;
}
