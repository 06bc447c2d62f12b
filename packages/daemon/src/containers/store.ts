/**
 * The container rows: the state database is the source of truth (hyprd is its one writer). Lookup
 * by id, name or prefix, listing, updates, and the one transaction that takes a name and inserts.
 */
import { join } from 'node:path';
import { HyprError, type HyprState, containers } from '@hypr/core';
import { eq, sql } from 'drizzle-orm';
import { containerStatus } from './container-status.js';
import { generateId, generateName } from './ids.js';
import type { ContainerRow, ContainerView, StoredContainerConfig } from './types.js';

/** States in which the container's VM exists: what `ps` without -a lists. */
export function isUp(state: string): boolean {
  return state === 'running' || state === 'paused' || state === 'restarting';
}

/** The stored config of a row (containers.config is JSON). */
export function storedConfig(row: ContainerRow): StoredContainerConfig {
  return JSON.parse(row.config) as StoredContainerConfig;
}

export type NewContainerRow = typeof containers.$inferInsert;

export class ContainerStore {
  // The hot reads, built once: a container's start and exit read its row a dozen times.
  private readonly allRows;
  private readonly rowById;

  constructor(
    private readonly state: HyprState,
    private readonly containersDir: string,
  ) {
    this.allRows = state.db.select().from(containers).prepare();
    this.rowById = state.db
      .select()
      .from(containers)
      .where(eq(containers.id, sql.placeholder('id')))
      .prepare();
  }

  all(): ContainerRow[] {
    return this.allRows.all();
  }

  get(id: string): ContainerRow | undefined {
    return this.rowById.get({ id });
  }

  /** A container by full id, name (`web` or `/web`) or unique id prefix. */
  resolve(text: string): ContainerRow {
    const t = text.replace(/^\//, '');
    if (!t) throw new HyprError('CONTAINER_NOT_FOUND', 'No such container: (empty)');
    const all = this.all();
    const exact = all.find((r) => r.id === t) ?? all.find((r) => r.name === t);
    if (exact) return exact;
    const matches = /^[a-f0-9]+$/.test(t) ? all.filter((r) => r.id.startsWith(t)) : [];
    if (matches.length === 1) return matches[0];
    if (matches.length > 1)
      throw new HyprError(
        'AMBIGUOUS_ID',
        `multiple containers match the prefix ${t}`,
        'give more characters of the id',
      );
    throw new HyprError('CONTAINER_NOT_FOUND', `No such container: ${text}`);
  }

  view(row: ContainerRow): ContainerView {
    return { row, config: storedConfig(row), status: containerStatus(row) };
  }

  /** The view of a row read again now (after a change); `fallback` when it is gone. */
  fresh(id: string, fallback?: ContainerRow): ContainerView {
    const row = this.get(id) ?? fallback;
    if (!row) throw new HyprError('CONTAINER_NOT_FOUND', `No such container: ${id}`);
    return this.view(row);
  }

  /** Newest first; without `all` only running and restarting containers. */
  list(opts: { all?: boolean } = {}): ContainerView[] {
    return this.all()
      .filter((r) => opts.all || isUp(r.state))
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((r) => this.view(r));
  }

  dirOf(row: ContainerRow): string {
    return row.dir ?? join(this.containersDir, row.id.slice(0, 12));
  }

  update(id: string, values: Partial<ContainerRow>): void {
    this.state.db.update(containers).set(values).where(eq(containers.id, id)).run();
  }

  delete(id: string): void {
    this.state.db.delete(containers).where(eq(containers.id, id)).run();
  }

  /**
   * A new id and its directory. The directory is named by the short id, unique among the rows:
   * Unix socket paths (the shim's) are limited to 107 bytes.
   */
  allocate(): { id: string; dir: string } {
    const shortIds = new Set(this.all().map((r) => r.id.slice(0, 12)));
    let id = generateId();
    while (shortIds.has(id.slice(0, 12))) id = generateId();
    return { id, dir: join(this.containersDir, id.slice(0, 12)) };
  }

  /**
   * Takes `name` (or a generated one) and inserts the row `make` returns, in one synchronous
   * transaction: concurrent creates cannot take the same name, and whatever `make` records in
   * the database (volumes) goes if the insert fails.
   */
  insertNamed(name: string | undefined, make: (name: string) => NewContainerRow): void {
    this.state.sqlite
      .transaction(() => {
        const taken = (n: string) => !!this.byName(n);
        const chosen = name ?? generateName(taken);
        this.checkNameFree(chosen);
        this.state.db.insert(containers).values(make(chosen)).run();
      })
      .immediate();
  }

  /** Gives the container `id` the name `name`, refused when another container has it. */
  rename(id: string, name: string): void {
    this.state.sqlite
      .transaction(() => {
        this.checkNameFree(name, id);
        this.update(id, { name });
      })
      .immediate();
  }

  private byName(name: string): ContainerRow | undefined {
    return this.state.db.select().from(containers).where(eq(containers.name, name)).get();
  }

  private checkNameFree(name: string, self?: string): void {
    const other = this.byName(name);
    if (other && other.id !== self)
      throw new HyprError(
        'CONTAINER_NAME_IN_USE',
        `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
  }

  /** The image digests some container uses (image prune keeps them). */
  imagesInUse(): Set<string> {
    return new Set(this.all().map((r) => r.imageDigest));
  }

  summaryCounts(): { total: number; running: number; paused: number; stopped: number } {
    const rows = this.all();
    const running = rows.filter((r) => r.state === 'running').length;
    const paused = rows.filter((r) => r.state === 'paused').length;
    return { total: rows.length, running, paused, stopped: rows.length - running - paused };
  }
}
