import { describe, expect, test } from 'vitest';
import type { BuildGraph } from './dag.js';
import { runStages } from './schedule.js';

// The stage scheduler with a hand-made graph: stages are promises the test resolves in the order it wants.
function graph(deps: Record<number, number[]>): BuildGraph {
  const stages = new Map(Object.entries(deps).map(([i, d]) => [Number(i), { index: Number(i), dependencies: d }]));
  return { order: [...stages.keys()], stages } as unknown as BuildGraph;
}

function controlled() {
  const started: number[] = [];
  const finish = new Map<number, (fail?: Error) => void>();
  const run = (i: number) =>
    new Promise<void>((resolve, reject) => {
      started.push(i);
      finish.set(i, (fail) => (fail ? reject(fail) : resolve()));
    });
  return { started, finish, run };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('runStages', () => {
  test('a stage starts once its own dependencies are built, not the whole level before it', async () => {
    // 0 and 1 are independent; 2 needs 0 only; 3 needs 1 and 2.
    const { started, finish, run } = controlled();
    const done = runStages(graph({ 0: [], 1: [], 2: [0], 3: [1, 2] }), 4, run);
    await tick();
    expect(started).toEqual([0, 1]);
    finish.get(0)!();
    await tick();
    expect(started).toEqual([0, 1, 2]); // 1 still running
    finish.get(2)!();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    finish.get(1)!();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    finish.get(3)!();
    await done;
  });

  test('no more stages run at once than the limit; after a failure none starts and it is thrown', async () => {
    const { started, finish, run } = controlled();
    const done = runStages(graph({ 0: [], 1: [], 2: [], 3: [0] }), 2, run);
    await tick();
    expect(started).toEqual([0, 1]);
    finish.get(1)!(new Error('stage 1 failed'));
    await tick();
    expect(started).toEqual([0, 1]);
    finish.get(0)!();
    await expect(done).rejects.toThrow('stage 1 failed');
    expect(started).toEqual([0, 1]);
  });
});
