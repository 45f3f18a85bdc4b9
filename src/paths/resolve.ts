import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { BangerError } from '../model/index.js';
import {
  SYSTEM_INSTALL_TOML,
  systemLayout,
  userLayout,
  overlongSocketPaths,
  type Layout,
  type Mode,
} from './layout.js';

/**
 * Chooses the layout for this process: BANGER_MODE=user|system wins; otherwise system
 * mode when a system install exists (/etc/banger/install.toml), else user mode.
 */
export function resolveMode(env: NodeJS.ProcessEnv, installExists = existsSync(SYSTEM_INSTALL_TOML)): Mode {
  const forced = env.BANGER_MODE;
  if (forced === 'user' || forced === 'system') return forced;
  if (forced)
    throw new BangerError('usage', `BANGER_MODE=${forced} is not a mode`, {
      hint: 'use BANGER_MODE=user or BANGER_MODE=system',
    });
  return installExists ? 'system' : 'user';
}

export function resolveLayout(env: NodeJS.ProcessEnv = process.env, mode: Mode = resolveMode(env)): Layout {
  const layout =
    mode === 'system'
      ? systemLayout()
      : userLayout({ home: env.HOME || homedir(), uid: process.getuid?.() ?? userInfo().uid, env });
  const tooLong = overlongSocketPaths(layout);
  if (tooLong.length > 0) {
    throw new BangerError(
      'config_invalid',
      `socket path ${tooLong[0]} is longer than the 107 bytes a unix socket allows`,
      {
        hint: 'set XDG_RUNTIME_DIR to a shorter directory (e.g. /run/user/$UID)',
      },
    );
  }
  return layout;
}
