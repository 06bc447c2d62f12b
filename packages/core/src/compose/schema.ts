/**
 * Phase 3: the Compose Specification's file format as zod schemas. A file is checked right after
 * interpolation, before anything is merged, so each problem keeps its file and line. The schemas follow
 * compose-spec.json: every key the specification defines is accepted, `x-*` extension keys are kept
 * wherever the specification allows them, and any other key is an error with a did-you-mean.
 */
import { z } from 'zod';
import {
  boolOrStr,
  byType,
  composeErrorMap,
  external,
  listOfStrings,
  listOrDict,
  num,
  obj,
  str,
  stringOrList,
  stringOrNumberMap,
} from './schema-kit.js';
import { type buildSchema, serviceSchema } from './schema-service.js';

export { buildSchema, serviceSchema } from './schema-service.js';
export { kindOf, listOrDict } from './schema-kit.js';

const ipamConfig = obj({
  subnet: str.optional(),
  ip_range: str.optional(),
  gateway: str.optional(),
  aux_addresses: z.record(str).optional(),
});

export const networkSchema = byType(
  {
    null: z.null(),
    object: obj({
      name: str.optional(),
      driver: str.optional(),
      driver_opts: stringOrNumberMap.optional(),
      ipam: obj({
        driver: str.optional(),
        config: z.array(ipamConfig).optional(),
        options: z.record(str).optional(),
      }).optional(),
      external: external.optional(),
      internal: boolOrStr.optional(),
      enable_ipv4: boolOrStr.optional(),
      enable_ipv6: boolOrStr.optional(),
      attachable: boolOrStr.optional(),
      labels: listOrDict.optional(),
    }),
  },
  'a mapping or null',
);

export const volumeSchema = byType(
  {
    null: z.null(),
    object: obj({
      name: str.optional(),
      driver: str.optional(),
      driver_opts: stringOrNumberMap.optional(),
      external: external.optional(),
      labels: listOrDict.optional(),
    }),
  },
  'a mapping or null',
);

export const secretSchema = obj({
  name: str.optional(),
  environment: str.optional(),
  file: str.optional(),
  external: external.optional(),
  labels: listOrDict.optional(),
  driver: str.optional(),
  driver_opts: stringOrNumberMap.optional(),
  template_driver: str.optional(),
});

export const configSchema = obj({
  name: str.optional(),
  content: str.optional(),
  environment: str.optional(),
  file: str.optional(),
  external: external.optional(),
  labels: listOrDict.optional(),
  template_driver: str.optional(),
});

const modelSchema = obj({
  name: str.optional(),
  model: str,
  context_size: z.number().int().optional(),
  runtime_flags: listOfStrings.optional(),
});

const NAME = /^[a-zA-Z0-9._-]+$/;

/** A mapping of named entries (services, networks …) whose names must match the specification's pattern. */
function named<T extends z.ZodTypeAny>(entry: T, what: string) {
  return z.record(entry).superRefine((v, ctx) => {
    for (const k of Object.keys(v)) {
      if (!NAME.test(k)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [k],
          message: `invalid ${what} name ${JSON.stringify(k)}`,
          params: { hint: 'names hold letters, digits, ".", "_" and "-"' },
        });
      }
    }
  });
}

export const includeSchema = byType(
  {
    string: str,
    object: obj(
      { path: stringOrList, env_file: stringOrList.optional(), project_directory: str.optional() },
      { extensions: false },
    ),
  },
  'a path or a mapping with path',
);

/** One compose file, as written. */
export const composeFileSchema = obj({
  version: byType({ string: str, number: num }, 'a string').optional(),
  name: str.optional(),
  include: z.array(includeSchema).optional(),
  services: byType({ null: z.null(), object: named(serviceSchema, 'service') }, 'a mapping').optional(),
  models: byType({ null: z.null(), object: named(modelSchema, 'model') }, 'a mapping').optional(),
  networks: byType({ null: z.null(), object: named(networkSchema, 'network') }, 'a mapping').optional(),
  volumes: byType({ null: z.null(), object: named(volumeSchema, 'volume') }, 'a mapping').optional(),
  secrets: byType({ null: z.null(), object: named(secretSchema, 'secret') }, 'a mapping').optional(),
  configs: byType({ null: z.null(), object: named(configSchema, 'config') }, 'a mapping').optional(),
});

export type RawComposeFile = z.output<typeof composeFileSchema>;
export type RawService = z.output<typeof serviceSchema>;
export type RawNetwork = NonNullable<z.output<typeof networkSchema>>;
export type RawVolume = NonNullable<z.output<typeof volumeSchema>>;
export type RawSecret = z.output<typeof secretSchema>;
export type RawConfig = z.output<typeof configSchema>;
export type RawBuild = z.output<typeof buildSchema>;

/** A schema problem with its key path; the hint carries did-you-mean suggestions. */
export interface SchemaIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** Checks a whole file; returns the typed value or every problem found. */
export function validateComposeFile(value: unknown): { data?: RawComposeFile; issues: SchemaIssue[] } {
  const r = composeFileSchema.safeParse(value, { errorMap: composeErrorMap });
  if (r.success) return { data: r.data, issues: [] };
  return {
    issues: r.error.issues.map((i) => ({
      path: i.path,
      message: i.message,
      hint: (i as { params?: { hint?: string } }).params?.hint,
    })),
  };
}
