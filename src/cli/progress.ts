import type { ProgressEvent } from '../rpc/index.js';
import { paint, type Output } from './output.js';
import { escapeForTerminalLine } from './terminalText.js';

/**
 * Renders a daemon operation's progress stages on stderr (stdout stays the command's own
 * output, so `banger vm run -- cmd` prints exactly what cmd prints). The `spec` stage is
 * shown as the one-line VM spec. Stages and details are escaped to one line: some quote the
 * guest (the workspace stage names the guest's HEAD).
 */
export function progressPrinter(o: Output, label?: string): (e: ProgressEvent) => void {
  return (e) => {
    const stage = escapeForTerminalLine(e.stage);
    const detail = e.detail ? escapeForTerminalLine(e.detail) : '';
    if (e.stage === 'spec') {
      o.err(`${paint(o, 'bold', 'spec:')} ${detail}\n`);
      return;
    }
    o.err(paint(o, 'dim', `  ${label ? `${label}: ` : ''}${stage}${detail ? ` (${detail})` : ''}\n`));
  };
}

export function readyLine(o: Output, ms: number): void {
  o.err(paint(o, 'dim', `ready in ${(ms / 1000).toFixed(1)}s\n`));
}
