import { BangerError } from '../model/index.js';

/**
 * Validation the declared surface (privops/surface.ts) cannot express as a schema: values
 * root itself is configured with. Each validator throws BangerError('bad_request') with a
 * sentence naming the value, and returns the value otherwise.
 */

/** Banger's nft table, or a test table `banger_<suffix>`. */
export function validateNftTable(name: string): string {
  if (!/^banger(_[a-z0-9]{1,16})?$/.test(name))
    throw new BangerError('bad_request', `nft table "${name}" is not banger's`);
  return name;
}
