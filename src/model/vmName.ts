/**
 * VM names are DNS labels (docs/reference/rpc.md): 1..63 characters of [a-z0-9-], no leading or
 * trailing '-'. They are never normalised: "Dev" is rejected rather than lowered, so
 * the name a user typed is the name in DNS, ssh config and `vm list`.
 */
import { z } from 'zod';
export const VM_NAME_MAX_LENGTH = 63;

/** Returns null when `name` is a valid VM name, else a sentence saying which rule failed. */
export function vmNameProblem(name: string): string | null {
  if (name.length === 0) return 'a VM name cannot be empty';
  if (name.length > VM_NAME_MAX_LENGTH) {
    return `VM name "${name}" is ${name.length} characters long; at most ${VM_NAME_MAX_LENGTH} are allowed`;
  }
  for (const ch of name) {
    if (/[a-z0-9-]/.test(ch)) continue;
    if (/[A-Z]/.test(ch)) {
      return `VM name "${name}" contains the uppercase letter '${ch}'; names are lowercase DNS labels (a-z, 0-9 and '-') and are not converted`;
    }
    return `VM name "${name}" contains ${JSON.stringify(ch)}; only a-z, 0-9 and '-' are allowed`;
  }
  if (name.startsWith('-')) return `VM name "${name}" starts with '-'; a DNS label must start with a letter or digit`;
  if (name.endsWith('-')) return `VM name "${name}" ends with '-'; a DNS label must end with a letter or digit`;
  return null;
}

export function isValidVmName(name: string): boolean {
  return vmNameProblem(name) === null;
}

/**
 * Names of images and kernels a user adopts (`image register`, `kernel import`): they end up
 * in directory names, tables and shell completion, so only plain characters.
 */
export const ARTIFACT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const artifactNameSchema = z
  .string()
  .regex(
    ARTIFACT_NAME_PATTERN,
    'must be 1 to 63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
  );
