/**
 * Undoes partial work (docs/architecture.md): every multi-step mutation pushes an undo after
 * each step that succeeded; on failure `unwind` runs them newest first, carries on past
 * undo errors, and reports them all.
 */
export class CleanupStack {
  private readonly undos: Array<{ label: string; fn: () => unknown }> = [];

  push(label: string, fn: () => unknown): void {
    this.undos.push({ label, fn });
  }

  /** Forget the undos: the operation succeeded and its results stay. */
  commit(): void {
    this.undos.length = 0;
  }

  async unwind(): Promise<string[]> {
    const errors: string[] = [];
    while (this.undos.length) {
      const { label, fn } = this.undos.pop()!;
      try {
        await fn();
      } catch (e) {
        errors.push(`${label}: ${(e as Error).message}`);
      }
    }
    return errors;
  }
}
