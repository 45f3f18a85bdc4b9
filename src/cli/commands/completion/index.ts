/**
 * `banger completion bash|zsh|fish` prints a completion script generated from the command
 * tree; the hidden `banger __complete vms|images|kernels` feeds it live names.
 */
import { Argument, type Command } from 'commander';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';
import { liveNames } from './names.js';
import { completionScript, SHELLS, type Shell } from './scripts.js';
import { completionSpecs, NAME_KINDS, type NameKind } from './spec.js';

export { completionSpecs, argKind, NAME_KINDS, type CommandSpec, type NameKind } from './spec.js';
export { completionScript, SHELLS, type Shell } from './scripts.js';
export { liveNames } from './names.js';

export function registerCompletionCommands(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .description('print a shell completion script (commands, flags, and live VM, image and kernel names)')
    .addHelpText(
      'after',
      examples([
        'source <(banger completion bash)          # in ~/.bashrc',
        'source <(banger completion zsh)           # in ~/.zshrc, after compinit',
        'banger completion fish | source           # in ~/.config/fish/config.fish',
        'banger completion bash > /etc/bash_completion.d/banger',
      ]),
    )
    .action(
      act(ctx, (shell: Shell): Outcome => {
        ctx.output.out(completionScript(shell, completionSpecs(program)));
        return 'ok';
      }),
    );
  program
    .command('__complete', { hidden: true })
    .argument('<kind>', NAME_KINDS.join(', '))
    .description('print live names for shell completion, one a line (never starts the daemon)')
    .action(
      act(ctx, async (kind: string): Promise<Outcome> => {
        if ((NAME_KINDS as readonly string[]).includes(kind)) {
          for (const name of await liveNames(ctx, kind as NameKind)) ctx.output.out(`${name}\n`);
        }
        return 'ok';
      }),
    );
}
