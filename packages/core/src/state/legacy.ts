// The hand-written migrations HYPR used before drizzle-kit (PRAGMA user_version 1–3). Frozen: a
// database at version 1 or 2 is brought to 3 with these steps, and version 3 is what drizzle/0000_baseline
// creates, so it is then recorded as applied without running it. New changes go to schema.ts and
// `drizzle-kit generate`, never here.

/** The last hand-written schema version. */
export const LEGACY_VERSION = 3;

export const LEGACY_STEPS: readonly { version: number; statements: readonly string[] }[] = [
  {
    version: 2,
    statements: [
      'ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE containers ADD COLUMN error TEXT',
      'ALTER TABLE containers ADD COLUMN health TEXT',
      'ALTER TABLE containers ADD COLUMN stopped_by_user INTEGER NOT NULL DEFAULT 0',
    ],
  },
  {
    version: 3,
    statements: [
      'ALTER TABLE networks ADD COLUMN ip_range TEXT',
      'ALTER TABLE networks ADD COLUMN internal INTEGER NOT NULL DEFAULT 0',
      "ALTER TABLE networks ADD COLUMN options TEXT NOT NULL DEFAULT '{}'",
    ],
  },
];
