// Versioned migrations of the state database, applied in order at open (PRAGMA user_version holds
// the last applied). Never edit a released step: add the next one. Keep schema.ts in step.
export interface StateMigration {
  version: number;
  name: string;
  sql: string;
}

export const STATE_MIGRATIONS: readonly StateMigration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE images (
  digest TEXT PRIMARY KEY NOT NULL,
  media_type TEXT NOT NULL,
  config_digest TEXT NOT NULL,
  config TEXT NOT NULL,
  layers TEXT NOT NULL,
  index_digest TEXT,
  os TEXT NOT NULL,
  architecture TEXT NOT NULL,
  variant TEXT,
  size_bytes INTEGER NOT NULL,
  source TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE TABLE image_tags (
  name TEXT PRIMARY KEY NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
  updated_at INTEGER NOT NULL
);
CREATE INDEX image_tags_digest ON image_tags(digest);
CREATE TABLE containers (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  image_digest TEXT NOT NULL REFERENCES images(digest),
  image_ref TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL DEFAULT 'created',
  pid INTEGER,
  exit_code INTEGER,
  dir TEXT,
  stack TEXT,
  labels TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
CREATE UNIQUE INDEX containers_name ON containers(name);
CREATE INDEX containers_image ON containers(image_digest);
CREATE TABLE volumes (
  name TEXT PRIMARY KEY NOT NULL,
  driver TEXT NOT NULL DEFAULT 'local',
  mountpoint TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE TABLE networks (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  driver TEXT NOT NULL DEFAULT 'bridge',
  subnet TEXT,
  gateway TEXT,
  bridge TEXT,
  labels TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX networks_name ON networks(name);
CREATE TABLE leases (
  network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  container_id TEXT REFERENCES containers(id) ON DELETE SET NULL,
  mac TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (network_id, address)
);
CREATE INDEX leases_container ON leases(container_id);
CREATE TABLE stacks (
  name TEXT PRIMARY KEY NOT NULL,
  project_dir TEXT,
  config TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE TABLE build_cache (
  key TEXT PRIMARY KEY NOT NULL,
  layer_digest TEXT,
  diff_id TEXT,
  config TEXT,
  size_bytes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX build_cache_layer ON build_cache(layer_digest);
`,
  },
  {
    version: 2,
    name: 'container-lifecycle',
    sql: `
ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN error TEXT;
ALTER TABLE containers ADD COLUMN health TEXT;
ALTER TABLE containers ADD COLUMN stopped_by_user INTEGER NOT NULL DEFAULT 0;
`,
  },
  {
    version: 3,
    name: 'network-options',
    sql: `
ALTER TABLE networks ADD COLUMN ip_range TEXT;
ALTER TABLE networks ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE networks ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
`,
  },
];
