/**
 * Part (b) of bench/scaling.bench.ts, shared by the benchmark (Redis) and its MemoryStore child
 * process: a 10-session namespace's operations on a store holding unrelated data vs on an empty
 * one, interleaved round by round so machine noise hits both alike.
 */
import type { Store } from '../../src/stores/store.js';
import { compareTimed, pairedRatio, type TimingOptions } from './harness.js';
import {
  engineOver,
  NAMESPACE_OPS,
  type NamespaceOp,
  namespaceCases,
  type SessionFactory,
} from './scaling-fixture.js';

export interface UnrelatedTiming {
  /** ms per call with the store holding the unrelated data, and on an empty store (same rounds). */
  ms: Record<NamespaceOp, number>;
  emptyMs: Record<NamespaceOp, number>;
  /** Time ratio loaded / empty: the median of per-round ratios. */
  ratio: Record<NamespaceOp, number>;
}

/** A 10-session namespace on a store holding unrelated data vs on a nearly empty one, interleaved. */
export async function unrelatedTiming(
  loadedStore: Store,
  emptyStore: Store,
  factory: SessionFactory,
  timing: TimingOptions,
): Promise<UnrelatedTiming> {
  const loaded = namespaceCases(engineOver(loadedStore), factory, 10, 'loaded');
  const empty = namespaceCases(engineOver(emptyStore), factory, 10, 'empty');
  await loaded.ready();
  await empty.ready();
  const m = await compareTimed(
    NAMESPACE_OPS.flatMap((op) => [loaded.cases[op], empty.cases[op]]),
    timing,
  );
  await loaded.dispose();
  await empty.dispose();
  const out = { ms: {}, emptyMs: {}, ratio: {} } as UnrelatedTiming;
  for (const op of NAMESPACE_OPS) {
    const l = m[loaded.cases[op].label]!;
    const e = m[empty.cases[op].label]!;
    out.ms[op] = l.msPerOp;
    out.emptyMs[op] = e.msPerOp;
    out.ratio[op] = pairedRatio(e, l);
  }
  return out;
}
