/** `banger ssh-config [--install|--uninstall]`: the Include that makes plain `ssh NAME.vm` work. */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hasInclude, includeBlock, installInclude, uninstallInclude } from '../../guest/index.js';
import { BangerError } from '../../model/index.js';
import { writeFileAtomic } from '../../system/index.js';
import type { CliContext } from '../context.js';
import { act, examples, type Outcome } from './verb.js';

interface SshConfigOptions {
  install?: boolean;
  uninstall?: boolean;
}

/** Writes `text` to `path` atomically, keeping the file's mode (0600 for a new one). */
function writeKeepingMode(path: string, text: string): void {
  writeFileAtomic(path, text, existsSync(path) ? statSync(path).mode & 0o777 : 0o600);
}

export function registerSshConfigCommand(program: Command, ctx: CliContext): Command {
  return program
    .command('ssh-config')
    .option('--install', "add a marker-fenced Include of banger's ssh config to ~/.ssh/config")
    .option('--uninstall', 'remove exactly that block again')
    .description("make plain `ssh NAME.vm` work: show, install or remove the Include of banger's ssh config")
    .addHelpText(
      'after',
      examples(['banger ssh-config', 'banger ssh-config --install && ssh devbox.vm', 'banger ssh-config --uninstall']),
    )
    .action(act(ctx, (o: SshConfigOptions) => sshConfig(ctx, o)));
}

export function sshConfig(ctx: CliContext, o: SshConfigOptions): Outcome {
  if (o.install && o.uninstall) throw new BangerError('usage', '--install and --uninstall exclude each other');
  const home = ctx.env.HOME;
  if (!home) throw new BangerError('usage', 'HOME is not set, so ~/.ssh/config cannot be found');
  const sshDir = join(home, '.ssh');
  const userConfig = join(sshDir, 'config');
  const bangerConfig = ctx.layout.sshConfigFile;
  const current = existsSync(userConfig) ? readFileSync(userConfig, 'utf8') : '';
  if (o.install) {
    if (hasInclude(current)) {
      ctx.output.out(`already installed in ${userConfig}\n`);
      return 'ok';
    }
    mkdirSync(sshDir, { recursive: true, mode: 0o700 });
    writeKeepingMode(userConfig, installInclude(current, bangerConfig));
    ctx.output.out(`installed: ${userConfig} now includes ${bangerConfig}\n`);
  } else if (o.uninstall) {
    if (!hasInclude(current)) {
      ctx.output.out(`not installed in ${userConfig}\n`);
      return 'ok';
    }
    const restored = uninstallInclude(current);
    if (restored === '') rmSync(userConfig);
    else writeKeepingMode(userConfig, restored);
    ctx.output.out(`removed banger's Include from ${userConfig}\n`);
  } else {
    const state = hasInclude(current) ? 'installed' : 'not installed';
    ctx.output.out(
      `banger ssh config: ${bangerConfig}\n${state} in ${userConfig}; the block is:\n\n` + includeBlock(bangerConfig),
    );
  }
  return 'ok';
}
