import type { z } from 'zod';

/**
 * One RPC method, declared once and shared by client and server (docs/architecture.md):
 * the server validates params with `params` before dispatch, the client validates the
 * result with `result`, and docs/reference/rpc.md lists `summary`.
 */
export interface MethodDef<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  params: P;
  result: R;
  /** Recorded in daemon.operations.list (false for cheap reads and introspection). */
  tracked: boolean;
  /** Whether the method streams progress stages. */
  progress: boolean;
}

export type MethodTable = Record<string, MethodDef>;

export function defineMethod<P extends z.ZodType, R extends z.ZodType>(def: MethodDef<P, R>): MethodDef<P, R> {
  return def;
}

export type ParamsOf<T extends MethodTable, M extends keyof T> = z.input<T[M]['params']>;
export type ResultOf<T extends MethodTable, M extends keyof T> = z.output<T[M]['result']>;
