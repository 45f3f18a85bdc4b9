import type { BuildInfo } from '../buildinfo/index.js';
import type { Layout } from '../paths/index.js';
import type { HostRunner } from '../system/index.js';

/** What `banger update` was asked to do (its flags, the manifest and key to trust, the running build). */
export interface UpdateOptions {
  check: boolean;
  to?: string | undefined;
  dryRun: boolean;
  force: boolean;
  /** Accept a target older than the installed version. */
  allowDowngrade?: boolean;
  manifestUrl: string;
  publicKeyPem: string;
  current: BuildInfo;
}

/** What every step of an update works through. */
export interface UpdateDeps {
  runner: HostRunner;
  layout: Layout;
  progress: (msg: string) => void;
  /** Restarts the helper and the daemon (default: `system restart`); tests stand in for it. */
  restart?: () => Promise<void>;
}
