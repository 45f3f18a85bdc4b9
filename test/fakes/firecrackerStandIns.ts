import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes the stand-in `firecracker` and `jailer` executables into `dir`. They are Node
 * scripts with an absolute interpreter line (one exec, so the kernel names the process
 * after the script: comm "firecracker", as the real binary's), loading the compiled fakes.
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
