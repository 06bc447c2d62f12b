import type { BuildGraph } from './dag.js';

/**
 * Runs the graph's stages as soon as what they need is built: a stage starts once every stage it
 * depends on (its base, COPY --from, RUN --mount from=) has finished, with at most `limit` stages
 * at once. After the first failure no stage starts; the running ones finish; the failure is thrown.
 */
export async function runStages(
  graph: BuildGraph,
  limit: number,
  run: (index: number) => Promise<void>,
): Promise<void> {
  const pending = new Set(graph.order);
  const done = new Set<number>();
  const running = new Map<number, Promise<void>>();
  let failure: { error: unknown } | undefined;
  const ready = () =>
    graph.order.filter((i) => pending.has(i) && graph.stages.get(i)!.dependencies.every((d) => done.has(d)));
  while (pending.size > 0 || running.size > 0) {
    if (!failure) {
      for (const index of ready()) {
        if (running.size >= Math.max(1, limit)) break;
        pending.delete(index);
        running.set(
          index,
          run(index).then(
            () => {
              done.add(index);
            },
            (error) => {
              failure ??= { error };
            },
          ),
        );
      }
    }
    if (running.size === 0) break;
    const finished = await Promise.race([...running].map(([index, p]) => p.then(() => index)));
    running.delete(finished);
  }
  if (failure) throw failure.error;
}
