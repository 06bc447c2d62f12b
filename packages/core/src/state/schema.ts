import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// The state database, declared once: a new table or column goes here, then
// `pnpm -C packages/core exec drizzle-kit generate --name <what>` writes the migration into
// packages/core/drizzle/ (checked in; migrations.test.ts fails when the two disagree).
// Times are unix milliseconds; JSON columns hold text parsed by the caller.

/** One image (a platform manifest) known locally, keyed by its manifest digest. */
export const images = sqliteTable('images', {
  digest: text('digest').primaryKey(),
  mediaType: text('media_type').notNull(),
  configDigest: text('config_digest').notNull(),
  /** The image config JSON (Entrypoint, Cmd, Env …). */
  config: text('config').notNull(),
  /** JSON array of the layer descriptors, in order. */
  layers: text('layers').notNull(),
  /** The index this manifest was picked from, when pulled through one (its blob is kept too). */
  indexDigest: text('index_digest'),
  os: text('os').notNull(),
  architecture: text('architecture').notNull(),
  variant: text('variant'),
  /** Compressed size: config plus layers. */
  sizeBytes: integer('size_bytes').notNull(),
  /** Where it came from, `registry/repository`, for cross-repo mounts on push. */
  source: text('source'),
  createdAt: integer('created_at').notNull(),
  lastUsedAt: integer('last_used_at'),
});

/** A name for an image: `docker.io/library/busybox:latest`. Many names may point at one digest. */
export const imageTags = sqliteTable(
  'image_tags',
  {
    name: text('name').primaryKey(),
    repository: text('repository').notNull(),
    tag: text('tag').notNull(),
    digest: text('digest')
      .notNull()
      .references(() => images.digest, { onDelete: 'cascade' }),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('image_tags_digest').on(t.digest)],
);

/** A container (one microVM). The daemon owns the lifecycle; `config` is its create-time spec. */
export const containers = sqliteTable(
  'containers',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    imageDigest: text('image_digest')
      .notNull()
      .references(() => images.digest),
    imageRef: text('image_ref').notNull(),
    config: text('config').notNull().default('{}'),
    state: text('state').notNull().default('created'),
    pid: integer('pid'),
    exitCode: integer('exit_code'),
    /** Directory holding the writable layer and run files. */
    dir: text('dir'),
    stack: text('stack'),
    labels: text('labels').notNull().default('{}'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    /** Times the daemon restarted it by its restart policy. */
    restartCount: integer('restart_count').notNull().default(0),
    /** Why the last start failed or the program could not run. */
    error: text('error'),
    /** Health status: starting, healthy, unhealthy; null without a health check. */
    health: text('health'),
    /** Set by `stop`/`kill` so `unless-stopped` and `always` know not to restart (1 = true). */
    stoppedByUser: integer('stopped_by_user').notNull().default(0),
  },
  (t) => [uniqueIndex('containers_name').on(t.name), index('containers_image').on(t.imageDigest)],
);

export const volumes = sqliteTable('volumes', {
  name: text('name').primaryKey(),
  driver: text('driver').notNull().default('local'),
  mountpoint: text('mountpoint').notNull(),
  labels: text('labels').notNull().default('{}'),
  createdAt: integer('created_at').notNull(),
});

export const networks = sqliteTable(
  'networks',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    driver: text('driver').notNull().default('bridge'),
    subnet: text('subnet'),
    gateway: text('gateway'),
    bridge: text('bridge'),
    labels: text('labels').notNull().default('{}'),
    createdAt: integer('created_at').notNull(),
    /** Allocation range inside the subnet (`--ip-range`). */
    ipRange: text('ip_range'),
    /** `--internal`: no egress (1 = true). */
    internal: integer('internal').notNull().default(0),
    /** Driver options (`-o`), JSON. */
    options: text('options').notNull().default('{}'),
  },
  (t) => [uniqueIndex('networks_name').on(t.name)],
);

/** IP address leases (IPAM): one address of a network held by a container. */
export const leases = sqliteTable(
  'leases',
  {
    networkId: text('network_id')
      .notNull()
      .references(() => networks.id, { onDelete: 'cascade' }),
    address: text('address').notNull(),
    containerId: text('container_id').references(() => containers.id, { onDelete: 'set null' }),
    mac: text('mac'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.networkId, t.address] }), index('leases_container').on(t.containerId)],
);

/** Compose projects (stacks). */
export const stacks = sqliteTable('stacks', {
  name: text('name').primaryKey(),
  projectDir: text('project_dir'),
  config: text('config').notNull().default('{}'),
  createdAt: integer('created_at').notNull(),
});

/** Build cache: a step's cache key to the layer it produced. */
export const buildCache = sqliteTable(
  'build_cache',
  {
    key: text('key').primaryKey(),
    layerDigest: text('layer_digest'),
    diffId: text('diff_id'),
    /** Config changes of a metadata-only step (ENV, CMD …), JSON. */
    config: text('config'),
    sizeBytes: integer('size_bytes').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at').notNull().default(sql`0`),
  },
  (t) => [index('build_cache_layer').on(t.layerDigest)],
);

export const stateSchema = { images, imageTags, containers, volumes, networks, leases, stacks, buildCache };
