/**
 * In-flight and recently finished daemon operations (docs/reference/rpc.md, `daemon.operations.list`).
 * `update` consults it to refuse while work is in flight. Finished operations are kept
 * in a bounded ring so the daemon's memory does not grow with its uptime.
 */
import { randomBytes } from 'node:crypto';

export interface OperationInfo {
  id: string;
  kind: string;
  vm: string | null;
  stage: string | null;
  startedAt: string;
  doneAt: string | null;
  error: string | null;
}

export function newOpId(): string {
  return `op-${randomBytes(5).toString('hex')}`;
}

export class Operation {
  constructor(
    private readonly info: OperationInfo,
    private readonly onDone: (op: Operation) => void,
  ) {}

  get id(): string {
    return this.info.id;
  }

  setStage(stage: string): void {
    this.info.stage = stage;
  }

  finish(error?: string): void {
    if (this.info.doneAt) return;
    this.info.doneAt = new Date().toISOString();
    this.info.error = error ?? null;
    this.onDone(this);
  }

  snapshot(): OperationInfo {
    return { ...this.info };
  }
}

export class OperationRegistry {
  private readonly inFlight = new Map<string, Operation>();
  private readonly finished: OperationInfo[] = [];

  constructor(
    private readonly keepFinished = 50,
    private readonly now: () => Date = () => new Date(),
  ) {}

  begin(kind: string, opts: { id?: string; vm?: string | null } = {}): Operation {
    const op = new Operation(
      {
        id: opts.id ?? newOpId(),
        kind,
        vm: opts.vm ?? null,
        stage: null,
        startedAt: this.now().toISOString(),
        doneAt: null,
        error: null,
      },
      (done) => {
        this.inFlight.delete(done.id);
        this.finished.push(done.snapshot());
        if (this.finished.length > this.keepFinished) this.finished.splice(0, this.finished.length - this.keepFinished);
      },
    );
    this.inFlight.set(op.id, op);
    return op;
  }

  /** In-flight operations first (oldest first), then finished ones (newest first). */
  list(): OperationInfo[] {
    return [...[...this.inFlight.values()].map((o) => o.snapshot()), ...[...this.finished].reverse()];
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }
}
