/**
 * The `stacks` table: each project's spec, files and directory, so a stack outlives the CLI and a
 * daemon restart. Its containers are not listed here: they are found by their project label.
 */
import { HyprError, type HyprState, containers, stacks } from '@hypr/core';
import type { StackSpec } from '@hypr/core/compose';
import { eq } from 'drizzle-orm';
import type { StoredStack } from './types.js';

export class StackStore {
  constructor(private readonly state: HyprState) {}

  get(name: string): StoredStack | undefined {
    const row = this.state.db.select().from(stacks).where(eq(stacks.name, name)).get();
    return row ? (JSON.parse(row.config) as StoredStack) : undefined;
  }

  /** Every recorded stack with its name. */
  all(): (StoredStack & { name: string })[] {
    return this.state.db
      .select()
      .from(stacks)
      .all()
      .map((r) => ({ ...(JSON.parse(r.config) as StoredStack), name: r.name }));
  }

  save(rec: StoredStack): void {
    const config = JSON.stringify(rec);
    this.state.db
      .insert(stacks)
      .values({ name: rec.spec.name, projectDir: rec.projectDir, config, createdAt: Date.now() })
      .onConflictDoUpdate({ target: stacks.name, set: { projectDir: rec.projectDir, config } })
      .run();
  }

  drop(name: string): void {
    this.state.db.delete(stacks).where(eq(stacks.name, name)).run();
  }

  /** Marks a container as the project's in the containers table (its `stack` column). */
  claim(containerId: string, project: string): void {
    this.state.db.update(containers).set({ stack: project }).where(eq(containers.id, containerId)).run();
  }

  /** The spec given by the CLI, else the recorded one. */
  specOf(name: string, given?: StackSpec): StackSpec {
    if (given) return given;
    const rec = this.get(name);
    if (!rec)
      throw new HyprError(
        'COMPOSE_NO_SUCH_PROJECT',
        `no such project: ${name}`,
        'run hypr compose in the project directory, or give -f / -p',
      );
    return rec.spec;
  }
}
