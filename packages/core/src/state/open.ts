import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { HyprError } from '../errors.js';
import { STATE_MIGRATIONS, type StateMigration } from './migrations/index.js';
import { stateSchema } from './schema.js';

export type StateDb = BetterSQLite3Database<typeof stateSchema>;

/** An open state database: `db` for typed queries (drizzle), `sqlite` for raw statements and transactions. */
export interface HyprState {
  readonly path: string;
  readonly db: StateDb;
  readonly sqlite: Database.Database;
  /** The schema version after migrations. */
  readonly version: number;
  close(): void;
}

/**
 * Opens (creating if needed) the state database at `dbPath` (`:memory:` for tests): WAL, foreign
 * keys on, a busy timeout for concurrent CLI/daemon access, and every pending migration applied.
 */
export function openState(dbPath: string, opts: { migrations?: readonly StateMigration[] } = {}): HyprState {
  if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(dbPath);
  } catch (e) {
    throw new HyprError(
      'STATE_OPEN_FAILED',
      `cannot open the state database ${dbPath}: ${(e as Error).message}`,
      undefined,
      {
        cause: e,
      },
    );
  }
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  let version: number;
  try {
    version = migrateState(sqlite, opts.migrations ?? STATE_MIGRATIONS);
  } catch (e) {
    sqlite.close();
    throw e;
  }
  const db = drizzle(sqlite, { schema: stateSchema });
  return { path: dbPath, db, sqlite, version, close: () => sqlite.close() };
}

/** Applies migrations newer than the database's user_version, each in its own transaction. */
export function migrateState(sqlite: Database.Database, migrations: readonly StateMigration[]): number {
  let current = sqlite.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new HyprError(
      'STATE_TOO_NEW',
      `the state database is at schema version ${current}, newer than this HYPR knows (${latest})`,
      'upgrade HYPR, or point HYPR_HOME elsewhere',
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    sqlite
      .transaction(() => {
        sqlite.exec(m.sql);
        sqlite.pragma(`user_version = ${m.version}`);
      })
      .immediate();
    current = m.version;
  }
  return current;
}
