import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';
import { Ipam } from '../network/index.js';
import { defaultMigrationsFolder, readStateMigrations } from './migrate.js';
import { openState } from './open.js';
import { containers, leases } from './schema.js';

const core = fileURLToPath(new URL('../..', import.meta.url));
const fixture = join(core, 'test/fixtures/state/v3.db');
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hypr-migrate-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test('the checked-in migrations are what drizzle-kit generates from schema.ts', () => {
  // drizzle-kit compares schema.ts with the last snapshot: a new migration here means someone changed
  // the schema without running `pnpm -C packages/core exec drizzle-kit generate`. It takes --out
  // relative to its cwd and exits 0 even on failure, hence the temp cwd and the check of its output.
  const cwd = tempDir();
  cpSync(defaultMigrationsFolder(), join(cwd, 'drizzle'), { recursive: true });
  const before = readdirSync(join(cwd, 'drizzle')).sort();
  const output = execFileSync(
    join(core, 'node_modules/.bin/drizzle-kit'),
    ['generate', '--dialect', 'sqlite', '--schema', join(core, 'src/state/schema.ts'), '--out', 'drizzle'],
    { cwd, encoding: 'utf8', stdio: 'pipe' },
  );
  const added = readdirSync(join(cwd, 'drizzle')).filter((f) => !before.includes(f));
  const sqlText = added.map((f) => readFileSync(join(cwd, 'drizzle', f), 'utf8')).join('\n');
  expect(added, `schema.ts and drizzle/ disagree; drizzle-kit would add:\n${sqlText}`).toEqual([]);
  expect(output, 'drizzle-kit did not compare the schema').toContain('No schema changes');
});

function tableRows(db: Database.Database): Record<string, unknown[]> {
  const names = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_\\_%' ESCAPE '\\' ORDER BY name",
    )
    .pluck()
    .all() as string[];
  return Object.fromEntries(names.map((n) => [n, db.prepare(`SELECT * FROM "${n}" ORDER BY rowid`).all()]));
}

function describeSchema(db: Database.Database) {
  const tables = Object.keys(tableRows(db));
  return tables.map((t) => ({
    table: t,
    columns: (
      db.pragma(`table_info("${t}")`) as {
        name: string;
        type: string;
        notnull: number;
        dflt_value: unknown;
        pk: number;
      }[]
    )
      .map((c) => ({ name: c.name, type: c.type.toUpperCase(), notnull: c.notnull, default: c.dflt_value, pk: c.pk }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    indexes: (db.pragma(`index_list("${t}")`) as { name: string; unique: number; origin: string }[])
      .map((i) => ({ name: i.name, unique: i.unique, origin: i.origin, cols: db.pragma(`index_info("${i.name}")`) }))
      .filter((i) => i.origin === 'c')
      .sort((a, b) => a.name.localeCompare(b.name)),
    foreignKeys: (db.pragma(`foreign_key_list("${t}")`) as Record<string, unknown>[])
      .map((f) => ({ table: f.table, from: f.from, to: f.to, on_delete: f.on_delete }))
      .sort((a, b) => String(a.from).localeCompare(String(b.from))),
  }));
}

test('a database made by the hand-written migrations (v3) migrates forward with every row kept', async () => {
  const path = join(tempDir(), 'hypr.db');
  copyFileSync(fixture, path);
  const old = new Database(fixture, { readonly: true });
  const before = tableRows(old);
  old.close();
  expect(Object.values(before).every((rows) => rows.length > 0)).toBe(true);

  const state = openState(path);
  expect(state.version).toBe(3 + readStateMigrations().length);
  expect(tableRows(state.sqlite)).toEqual(before);
  // The new code reads and writes the old rows.
  const ipam = new Ipam(state);
  expect(ipam.requireNetwork('shopnet')).toMatchObject({
    ipRange: '10.99.0.128/25',
    internal: true,
    options: { mtu: '1400' },
  });
  expect(ipam.leases().map((l) => l.address)).toEqual(['10.99.0.128', '10.99.0.200']);
  expect(ipam.allocate('shopnet').address).toBe('10.99.0.129');
  state.db.delete(containers).run();
  expect(
    state.db
      .select()
      .from(leases)
      .all()
      .every((l) => l.containerId === null),
  ).toBe(true);
  state.close();

  // Opening again applies nothing more.
  const again = openState(path);
  expect(again.version).toBe(state.version);
  again.close();
});

test('a database still at hand-written version 2 gets the legacy step 3, then the baseline', () => {
  const path = join(tempDir(), 'v2.db');
  copyFileSync(fixture, path);
  const v2 = new Database(path);
  for (const c of ['ip_range', 'internal', 'options']) v2.exec(`ALTER TABLE networks DROP COLUMN ${c}`);
  v2.pragma('user_version = 2');
  v2.close();
  const state = openState(path);
  expect(state.version).toBe(3 + readStateMigrations().length);
  expect(new Ipam(state).requireNetwork('shopnet')).toMatchObject({ internal: false, options: {} });
  state.close();
});

test('the drizzle baseline creates the same schema the hand-written migrations did', () => {
  const path = join(tempDir(), 'old.db');
  copyFileSync(fixture, path);
  const migrated = openState(path);
  const fresh = openState(':memory:');
  expect(describeSchema(fresh.sqlite)).toEqual(describeSchema(migrated.sqlite));
  migrated.close();
  fresh.close();
});

test('a database from a newer HYPR is refused, by user_version or by a migration this one lacks', () => {
  const dir = tempDir();
  const a = openState(join(dir, 'a.db'));
  a.sqlite.pragma('user_version = 999');
  a.close();
  expect(() => openState(join(dir, 'a.db'))).toThrow(expect.objectContaining({ code: 'STATE_TOO_NEW' }));
  const b = openState(join(dir, 'b.db'));
  b.sqlite.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('x', Date.now() * 2);
  b.close();
  expect(() => openState(join(dir, 'b.db'))).toThrow(expect.objectContaining({ code: 'STATE_TOO_NEW' }));
});

test('missing migration files are a clear error, not ENOENT', () => {
  expect(() => openState(':memory:', { migrationsFolder: join(tempDir(), 'nowhere') })).toThrow(
    expect.objectContaining({ code: 'STATE_MIGRATIONS_MISSING' }),
  );
});
