import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database, drizzle as drizzleFn } from 'drizzle-orm/better-sqlite3';
import { HyprError } from '../errors.js';
import { migrateState, readStateMigrations } from './migrate.js';
import { stateSchema } from './schema.js';

// better-sqlite3 is an optional peer of @hypr/core (a native module): a tool that only parses
// Dockerfiles must load @hypr/core without it, so the driver (and drizzle's adapter for it, which
// imports it) is required on the first openState, not imported at load.
const require = createRequire(import.meta.url);
let driver: { Database: typeof Database; drizzle: typeof drizzleFn } | undefined;
function loadDriver(): { Database: typeof Database; drizzle: typeof drizzleFn } {
  if (driver) return driver;
  try {
    driver = {
      Database: require('better-sqlite3') as typeof Database,
      drizzle: (require('drizzle-orm/better-sqlite3') as { drizzle: typeof drizzleFn }).drizzle,
    };
    return driver;
  } catch (e) {
    throw new HyprError(
      'STATE_DRIVER_MISSING',
      `cannot load the SQLite driver for the state database: ${(e as Error).message}`,
      'install better-sqlite3 next to @hypr/core (it is an optional peer dependency)',
      { cause: e },
    );
  }
}

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
  const { Database: SqliteDatabase, drizzle } = loadDriver();
  const steps = readStateMigrations(opts.migrationsFolder);
  if (dbPath !== ':memory:') makePrivate(dbPath);
  let sqlite: Database.Database;
  try {
    sqlite = new SqliteDatabase(dbPath);
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
    db = drizzle(sqlite, { schema: stateSchema });
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
