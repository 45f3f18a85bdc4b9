/** Words after a literal `--` in the raw argv: the guest command of `vm run`, `vm ssh` and `vm exec`. */
export function commandAfterDashes(rawArgv: readonly string[]): string[] {
  const i = rawArgv.indexOf('--');
  return i === -1 ? [] : rawArgv.slice(i + 1);
}
