import type { ProgressEvent } from '../rpc/index.js';
import { paint, type Output } from './output.js';

/**
 * Renders a daemon operation's progress stages on stderr (stdout stays the command's own
 * output, so `banger vm run -- cmd` prints exactly what cmd prints). The `spec` stage is
 * shown as the one-line VM spec.
 */
export function progressPrinter(o: Output, label?: string): (e: ProgressEvent) => void {
  return (e) => {
    if (e.stage === 'spec') {
      o.err(`${paint(o, 'bold', 'spec:')} ${e.detail ?? ''}\n`);
      return;
    }
    o.err(paint(o, 'dim', `  ${label ? `${label}: ` : ''}${e.stage}${e.detail ? ` (${e.detail})` : ''}\n`));
  };
}

export function readyLine(o: Output, ms: number): void {
  o.err(paint(o, 'dim', `ready in ${(ms / 1000).toFixed(1)}s\n`));
}
