/**
 * Child process of bench/scaling.bench.ts (`node --expose-gc --import tsx`): for each size, the
 * V8 heap a MemoryStore holding that many live sessions adds (after full GCs), then a 10-session
 * namespace's operations in that store vs in an empty one (interleaved). A process of its own so the
 * heap holds nothing but the store. Argument: JSON `MemoryChildInput`; prints `MemoryChildOutput`.
 */
import { MemoryStore } from '../../src/stores/memory.js';
import type { TimingOptions } from './harness.js';
import { SESSIONS_PER_USER, SessionFactory } from './scaling-fixture.js';
import { type UnrelatedTiming, unrelatedTiming } from './scaling-unrelated.js';

export interface MemoryChildInput {
  sizes: number[];
  timing: TimingOptions;
}

export interface MemoryChildOutput {
  dataBytes: number;
  points: ({ sessions: number; heapBytes: number } & UnrelatedTiming)[];
}

function collect(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const input = JSON.parse(process.argv[2] ?? '{}') as MemoryChildInput;
const factory = await SessionFactory.create();
const output: MemoryChildOutput = { dataBytes: factory.dataBytes, points: [] };
const empty = new MemoryStore();
for (const size of input.sizes) {
  const before = collect();
  const store = new MemoryStore();
  const started = performance.now();
  await factory.fill(store, size, (i) => `user:${Math.floor(i / SESSIONS_PER_USER)}`, 10_000);
  const heapBytes = collect() - before;
  process.stderr.write(
    `  MemoryStore: ${size} sessions in ${((performance.now() - started) / 1000).toFixed(1)} s, heap +${(heapBytes / 2 ** 20).toFixed(1)} MiB\n`,
  );
  output.points.push({
    sessions: size,
    heapBytes,
    ...(await unrelatedTiming(store, empty, factory, input.timing)),
  });
  await store.close();
}
process.stdout.write(`${JSON.stringify(output)}\n`);
