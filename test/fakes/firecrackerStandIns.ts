import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes the stand-in `firecracker` and `jailer` executables into `dir`. They are Node
 * scripts with an absolute interpreter line, loading the compiled fakes. One exec: the
 * kernel hands the script's path to node as argv[1], which is how root recognises a
 * stand-in (roothelper/vmmIdentity.ts); never by comm, which Node 24 renames "MainThread".
 */
export function writeFirecrackerStandIns(
  dir: string,
  buildRoot: string,
): { firecrackerBin: string; jailerBin: string } {
  const script = (name: string, module: string) => {
    const path = join(dir, name);
    writeFileSync(
      path,
      `#!${process.execPath}\nimport(${JSON.stringify(join(buildRoot, 'test', 'fakes', module))});\n`,
    );
    chmodSync(path, 0o755);
    return path;
  };
  return {
    firecrackerBin: script('firecracker', 'firecracker-fake.js'),
    jailerBin: script('jailer', 'jailer-fake.js'),
  };
}
