import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { HyprError } from '../errors.js';
import { migrateState, readStateMigrations } from './migrate.js';
import { stateSchema } from './schema.js';

// better-sqlite3 is an optional peer of @hypr/core (a native module): a tool that only parses
// Dockerfiles must load @hypr/core without it. Loaded here once; openState says when it is missing.
const driver = await Promise.all([import('better-sqlite3'), import('drizzle-orm/better-sqlite3')]).then(
  ([sqlite, orm]) => ({ Database: sqlite.default, drizzle: orm.drizzle }),
  (e: unknown) => e as Error,
);

export type StateDb = BetterSQLite3Database<typeof stateSchema>;

/** An open state database: `db` for typed queries and transactions (drizzle), `sqlite` for pragmas. */
export interface HyprState {
  readonly path: string;
  readonly db: StateDb;
  readonly sqlite: Database.Database;
  /** The schema version after migrations. */
  readonly version: number;
  close(): void;
}

export interface OpenStateOptions {
  /** The drizzle-kit migrations folder; default packages/core/drizzle. */
  migrationsFolder?: string;
}

/**
 * Opens (creating if needed) the state database at `dbPath` (`:memory:` for tests): WAL, foreign
 * keys on, a busy timeout for concurrent CLI/daemon access, and every pending migration applied.
 * The file holds every container's environment (passwords included), so it and its -wal/-shm are
 * 0600 whatever the umask.
 */
export function openState(dbPath: string, opts: OpenStateOptions = {}): HyprState {
  if (driver instanceof Error)
    throw new HyprError(
      'STATE_DRIVER_MISSING',
      `cannot load the SQLite driver for the state database: ${driver.message}`,
      'install better-sqlite3 next to @hypr/core (it is an optional peer dependency)',
      { cause: driver },
    );
  const steps = readStateMigrations(opts.migrationsFolder);
  if (dbPath !== ':memory:') makePrivate(dbPath);
  let sqlite: Database.Database;
  try {
    sqlite = new driver.Database(dbPath);
  } catch (e) {
    throw new HyprError(
      'STATE_OPEN_FAILED',
      `cannot open the state database ${dbPath}: ${(e as Error).message}`,
      undefined,
      { cause: e },
    );
  }
  let version: number;
  let db: StateDb;
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = driver.drizzle(sqlite, { schema: stateSchema });
    version = migrateState(db, steps);
  } catch (e) {
    sqlite.close();
    throw e;
  }
  return { path: dbPath, db, sqlite, version, close: () => sqlite.close() };
}

/**
 * Creates the database file 0600 before SQLite does (SQLite gives its -wal and -shm the mode of the
 * database file) and tightens a file, WAL or SHM left by an older HYPR at 0644.
 */
function makePrivate(dbPath: string): void {
  const dir = dirname(dbPath);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  try {
    closeSync(openSync(dbPath, 'a', 0o600));
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  } catch (e) {
    throw new HyprError(
      'STATE_OPEN_FAILED',
      `cannot create the state database ${dbPath}: ${(e as Error).message}`,
      'check that the directory is writable by this user',
      { cause: e },
    );
  }
}
