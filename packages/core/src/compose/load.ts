/**
 * loadCompose: the compose load pipeline, one phase after the other (docs/compose.md describes them):
 *
 *  0. locate   the files (-f, COMPOSE_FILE, or compose.yaml … and its override in the directory or above)
 *              and the environment (shell over --env-file / .env)
 *  1. parse    each file's YAML (anchors, aliases, `<<` merge keys), keeping lines and !reset/!override tags
 *  2. interpolate every value with the environment ($VAR, ${VAR:-default} …)
 *  3. validate each file against the Compose Specification schema (zod)
 *  4. normalise each file to the canonical shapes (long port/volume syntax, mappings, absolute paths)
 *  5. extends: resolve services extending others, in the same file or another
 *  6. merge    the files in order with the Compose merge rules
 *  7. name     the project (-p, COMPOSE_PROJECT_NAME, `name:`, or the directory, normalised)
 *  8. defaults: build context and Dockerfile, the default network, resource names
 *  9. profiles: leave out services none of whose profiles is enabled
 * 10. environment: read env_file files, resolve `KEY` entries from the environment
 * 11. check    the references between services, networks, volumes, secrets and configs, and cycles
 *
 * Each phase collects every problem it finds; the load stops after the first phase with problems and
 * throws them all in one ComposeValidationError.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { DotenvError, parseDotenv } from './dotenv.js';
import { type ComposeProblem, ComposeValidationError, ProblemList, joinPath } from './errors.js';
import { resolveExtends } from './extends.js';
import { type InterpolationProblem, type VariableLookup, interpolateTree } from './interpolate.js';
import { emptyLayer, mergeLayers } from './merge.js';
import { type ComposeLayer, type LayerService, normalizeLayer } from './normalize.js';
import { validateComposeFile } from './schema.js';
import type { ComposeFileObject, ComposeNetwork, ComposeProject, ComposeService, ComposeVolume } from './types.js';
import { type MergeTag, type YamlSource, findLine, parseComposeYaml } from './yaml-source.js';

export interface LoadComposeOptions {
  /** Where to look for compose files and resolve relative `files` and `envFiles`; default: process.cwd(). */
  workingDir?: string;
  /** The files to load, in order (`-f`); default: COMPOSE_FILE, else compose.yaml (or its variants) and its override. */
  files?: string[];
  /** Directory relative paths in the files resolve against; default: the directory of the first file. */
  projectDir?: string;
  /** The shell environment; default: process.env. */
  env?: Record<string, string | undefined>;
  /** `--env-file`: dotenv files for interpolation, later ones win; default: `.env` in the project directory. */
  envFiles?: string[];
  /** Enabled profiles (`--profile`); default: COMPOSE_PROFILES. `*` enables all. */
  profiles?: string[];
  /** Services named on the command line: enabled whatever their profiles. */
  services?: string[];
  /** `-p`; default: COMPOSE_PROJECT_NAME, then `name:`, then the project directory's name. */
  projectName?: string;
  logger?: Logger;
}

export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const COMPOSE_OVERRIDE_FILE_NAMES = [
  'compose.override.yaml',
  'compose.override.yml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
];

/** Lower-cases a directory name and keeps only what a project name may hold, as compose does. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Finds compose.yaml (or a variant) and its override in `dir` or the nearest parent holding one. */
export function findComposeFiles(dir: string): string[] | undefined {
  let d = resolve(dir);
  for (;;) {
    const main = COMPOSE_FILE_NAMES.map((n) => join(d, n)).find((p) => existsSync(p));
    if (main) {
      const override = COMPOSE_OVERRIDE_FILE_NAMES.map((n) => join(d, n)).find((p) => existsSync(p));
      return override ? [main, override] : [main];
    }
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

interface LoadedFile {
  source: YamlSource;
  layer: ComposeLayer;
  tags: Map<string, MergeTag>;
  version?: boolean;
}

/** Loads, merges, checks and normalises a compose project. Throws ComposeValidationError listing every problem. */
export function loadCompose(options: LoadComposeOptions = {}): ComposeProject {
  const log = (options.logger ?? silentLogger).child({ op: 'compose-load' });
  const workingDir = resolve(options.workingDir ?? process.cwd());
  const shell = options.env ?? process.env;
  const warnings: string[] = [];

  // Phase 0: environment, then files.
  const envFiles = options.envFiles?.map((f) => resolve(workingDir, f));
  const dotenv: Record<string, string> = {};
  const shellLookup: VariableLookup = (name) => shell[name] ?? dotenv[name];
  const readEnvFile = (file: string, required: boolean) => {
    if (!existsSync(file)) {
      if (required) throw new ComposeValidationError([{ path: '', file, message: `env file ${file} not found` }]);
      return;
    }
    try {
      Object.assign(dotenv, parseDotenv(readFileSync(file, 'utf8'), shellLookup));
    } catch (e) {
      if (e instanceof DotenvError) {
        throw new ComposeValidationError([{ path: '', file, line: e.line, message: e.message, hint: e.hint }]);
      }
      throw e;
    }
  };
  const earlyProjectDir = options.projectDir ? resolve(workingDir, options.projectDir) : workingDir;
  if (envFiles) for (const f of envFiles) readEnvFile(f, true);
  else readEnvFile(join(earlyProjectDir, '.env'), false);
  const environment: Record<string, string> = { ...dotenv };
  for (const [k, v] of Object.entries(shell)) if (v !== undefined) environment[k] = v;
  const lookup: VariableLookup = (name) => environment[name];

  let files = options.files?.map((f) => resolve(workingDir, f));
  if (!files?.length && environment.COMPOSE_FILE) {
    const sep = environment.COMPOSE_PATH_SEPARATOR ?? ':';
    files = environment.COMPOSE_FILE.split(sep)
      .filter(Boolean)
      .map((f) => resolve(workingDir, f));
  }
  if (!files?.length) files = findComposeFiles(workingDir);
  if (!files?.length) {
    throw new HyprError(
      'COMPOSE_FILE_NOT_FOUND',
      `no compose file found in ${workingDir} or its parents`,
      `create compose.yaml, or name the file with -f (looked for ${COMPOSE_FILE_NAMES.join(', ')})`,
    );
  }
  const projectDir = options.projectDir ? resolve(workingDir, options.projectDir) : dirname(files[0]);
  log.debug({ files, projectDir }, 'compose files located');

  const loaded = new Map<string, LoadedFile>();
  const problems = new ProblemList();
  const report = (file: string, path: string, message: string, hint?: string) => {
    const lines = loaded.get(file)?.source.lines;
    problems.add({ path, message, file, line: lines ? findLine(lines, path) : undefined, hint });
  };
  const missing = new Set<string>();

  // Phases 1–4 for one file.
  const loadFile = (file: string, baseDir: string): LoadedFile => {
    const known = loaded.get(file);
    if (known) return known;
    const text = readFileSync(file, 'utf8');
    const parsed = parseComposeYaml(text, file);
    if (!parsed.source) throw new ComposeValidationError(parsed.problems);
    const source = parsed.source;
    if (source.value === null || typeof source.value !== 'object' || Array.isArray(source.value)) {
      throw new ComposeValidationError([{ path: '', file, line: 1, message: 'the top level must be a mapping' }]);
    }
    // `!reset` values are markers, not values: take them out before they are checked.
    const value = removeTagged(source.value as Record<string, unknown>, source.tags);
    const interpolationProblems: InterpolationProblem[] = [];
    const interpolated = interpolateTree(value, lookup, interpolationProblems, {
      onMissing: (name) => missing.add(name),
    });
    const local = new ProblemList();
    const at = (path: (string | number)[], message: string, hint?: string) => {
      const p = joinPath(path);
      local.add({ path: p, message, hint, file, line: findLine(source.lines, p) });
    };
    for (const p of interpolationProblems) at(p.path, p.message, p.hint);
    local.throwIfAny();
    const { data, issues } = validateComposeFile(interpolated);
    for (const i of issues) at(i.path, i.message, i.hint);
    local.throwIfAny();
    if (!data) throw new ComposeValidationError([{ path: '', file, message: 'invalid compose file' }]);
    const layer = normalizeLayer(data, { baseDir, report: at });
    local.throwIfAny();
    const entry: LoadedFile = { source, layer, tags: source.tags, version: data.version !== undefined };
    loaded.set(file, entry);
    if (data.include?.length) loadIncludes(file, baseDir, data.include, entry);
    return entry;
  };

  const loadIncludes = (
    file: string,
    baseDir: string,
    includes: NonNullable<ReturnType<typeof validateComposeFile>['data']>['include'] & object,
    into: LoadedFile,
  ) => {
    includes.forEach((inc, i) => {
      const spec = typeof inc === 'string' ? { path: inc } : inc;
      const paths = (typeof spec.path === 'string' ? [spec.path] : spec.path).map((p) => resolve(baseDir, p));
      const incDir = spec.project_directory ? resolve(baseDir, spec.project_directory) : dirname(paths[0]);
      let merged = emptyLayer();
      for (const p of paths) {
        if (!existsSync(p)) {
          report(file, `include[${i}]`, `included file ${p} not found`);
          return;
        }
        const f = loadFile(p, incDir);
        resolveExtends(p, extendsSource);
        merged = mergeLayers(merged, f.layer, f.tags);
      }
      for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
        for (const [name, v] of Object.entries(merged[section])) {
          if (into.layer[section][name] !== undefined) {
            report(
              file,
              `${section}.${name}`,
              `conflicts with the ${section.slice(0, -1)} of the same name included from ${paths[0]}`,
            );
          } else (into.layer[section] as Record<string, unknown>)[name] = v;
        }
      }
    });
  };

  const extendsSource = {
    layerOf: (file: string) => {
      const f = loaded.get(file) ?? loadFile(file, dirname(file));
      return { layer: f.layer, tags: f.tags };
    },
    report,
  };

  let merged = emptyLayer();
  for (const file of files) {
    if (!existsSync(file)) {
      throw new HyprError('COMPOSE_FILE_NOT_FOUND', `compose file ${file} not found`, 'check the path given with -f');
    }
    const f = loadFile(file, projectDir);
    if (f.version) warnings.push(`${file}: the attribute "version" is obsolete and ignored`);
    // Phase 5, then phase 6.
    resolveExtends(file, extendsSource);
    problems.throwIfAny();
    merged = mergeLayers(merged, f.layer, f.tags);
  }
  for (const name of missing)
    warnings.push(`the ${JSON.stringify(name)} variable is not set; defaulting to a blank string`);

  const lastFileFor = (path: string): string => {
    for (const file of [...files].reverse()) {
      if (loaded.get(file)?.source.lines.has(path)) return file;
    }
    const svc = /^services\.([^.[]+)/.exec(path);
    if (svc) for (const file of [...files].reverse()) if (loaded.get(file)?.layer.services[svc[1]]) return file;
    return files[files.length - 1];
  };
  const fail = (path: string, message: string, hint?: string) => report(lastFileFor(path), path, message, hint);

  // Phase 7: the project name.
  const explicitName = options.projectName ?? environment.COMPOSE_PROJECT_NAME ?? merged.name;
  let name: string;
  if (explicitName !== undefined && explicitName !== '') {
    name = explicitName;
    if (!PROJECT_NAME.test(name)) {
      const path = options.projectName === undefined && environment.COMPOSE_PROJECT_NAME === undefined ? 'name' : '';
      fail(
        path,
        `${JSON.stringify(name)} is not a valid project name`,
        'project names hold lower-case letters, digits, "_" and "-", and start with a letter or digit',
      );
    }
  } else {
    name = normalizeProjectName(basename(projectDir));
    if (!name) fail('', `cannot derive a project name from the directory ${projectDir}`, 'set one with -p or `name:`');
  }
  problems.throwIfAny();

  // Phase 8: defaults.
  const services: Record<string, ComposeService> = {};
  const networks: Record<string, ComposeNetwork> = {};
  for (const [sname, svc] of Object.entries(merged.services)) {
    services[sname] = applyServiceDefaults(sname, svc, projectDir, fail);
  }

  // Phase 9: profiles.
  const profileList =
    options.profiles ??
    (environment.COMPOSE_PROFILES
      ? environment.COMPOSE_PROFILES.split(',')
          .map((p) => p.trim())
          .filter(Boolean)
      : []);
  const enabled = new Set(profileList);
  const named = new Set(options.services ?? []);
  for (const s of named)
    if (!services[s]) fail('services', `no such service: ${s}`, suggestHint(s, Object.keys(services)));
  const disabledServices: Record<string, ComposeService> = {};
  for (const [sname, svc] of Object.entries(services)) {
    const profiles = svc.profiles ?? [];
    const active =
      profiles.length === 0 || enabled.has('*') || profiles.some((p) => enabled.has(p)) || named.has(sname);
    if (!active) {
      disabledServices[sname] = svc;
      delete services[sname];
    }
  }
  // A service named explicitly brings the services it depends on.
  const queue = [...named].filter((n) => services[n]);
  while (queue.length) {
    const s = queue.pop()!;
    for (const dep of Object.keys(services[s].depends_on ?? {})) {
      if (disabledServices[dep] && named.size > 0) {
        services[dep] = disabledServices[dep];
        delete disabledServices[dep];
        queue.push(dep);
      }
    }
  }

  // Phase 10: environment of each service.
  for (const [sname, svc] of Object.entries(services)) resolveServiceEnvironment(sname, svc, lookup, fail);
  problems.throwIfAny();

  // Phase 11: references and cycles (names of resources first, so messages can use them).
  const usesDefault = Object.values(services).some((s) => s.networks && 'default' in s.networks);
  const rawNetworks = { ...merged.networks };
  if (usesDefault && !rawNetworks.default) rawNetworks.default = {};
  for (const [key, n] of Object.entries(rawNetworks))
    networks[key] = { ...n, name: resourceName(name, key, n) } as ComposeNetwork;
  const volumes: Record<string, ComposeVolume> = {};
  for (const [key, v] of Object.entries(merged.volumes))
    volumes[key] = { ...v, name: resourceName(name, key, v) } as ComposeVolume;
  const secrets: Record<string, ComposeFileObject> = {};
  const configs: Record<string, ComposeFileObject> = {};
  for (const kind of ['secrets', 'configs'] as const) {
    const target = kind === 'secrets' ? secrets : configs;
    for (const [key, o] of Object.entries(merged[kind])) {
      target[key] = { ...o, name: resourceName(name, key, o) } as ComposeFileObject;
      const sources = ['file', 'environment', 'content', 'external'].filter(
        (k) => o[k as keyof typeof o] !== undefined && o[k as keyof typeof o] !== false,
      );
      if (kind === 'secrets' && o.content !== undefined)
        fail(`${kind}.${key}.content`, 'secrets take file, environment or external, not content');
      if (sources.length === 0) {
        fail(
          `${kind}.${key}`,
          `${kind.slice(0, -1)} ${JSON.stringify(key)} has no source`,
          `set one of file, environment${kind === 'configs' ? ', content' : ''} or external`,
        );
      } else if (sources.length > 1) {
        fail(
          `${kind}.${key}`,
          `${kind.slice(0, -1)} ${JSON.stringify(key)} has several sources: ${sources.join(', ')}`,
          'keep exactly one',
        );
      } else if (o.environment !== undefined && environment[o.environment] === undefined) {
        fail(`${kind}.${key}.environment`, `variable ${o.environment} is not set`);
      }
    }
  }
  checkReferences({ services, disabledServices, networks, volumes, secrets, configs }, fail);
  problems.throwIfAny();

  return {
    name,
    workingDir: projectDir,
    services,
    networks,
    volumes,
    secrets,
    configs,
    disabledServices,
    files,
    environment,
    warnings,
  };
}

function suggestHint(word: string, candidates: string[]): string | undefined {
  const near =
    candidates.find((c) => c.toLowerCase() === word.toLowerCase()) ??
    candidates.find((c) => c.startsWith(word.slice(0, 3)));
  return near ? `did you mean ${JSON.stringify(near)}?` : undefined;
}

function resourceName(project: string, key: string, r: { name?: string; external?: boolean }): string {
  if (r.name !== undefined) return r.name;
  return r.external ? key : `${project}_${key}`;
}

/** Removes the values tagged `!reset` (the merge step uses the tags themselves). */
function removeTagged(value: Record<string, unknown>, tags: Map<string, MergeTag>): Record<string, unknown> {
  if (tags.size === 0) return value;
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      if (tags.get(p) === 'reset') continue;
      out[k] = walk(x, p);
    }
    return out;
  };
  return walk(value, '') as Record<string, unknown>;
}

type Fail = (path: string, message: string, hint?: string) => void;

function applyServiceDefaults(name: string, layerSvc: LayerService, projectDir: string, fail: Fail): ComposeService {
  const { extends: _ignored, ...svc } = layerSvc;
  const out = svc as ComposeService;
  const at = `services.${name}`;
  if (out.build) {
    const b = out.build;
    if (b.context === undefined) b.context = projectDir;
    if (b.dockerfile !== undefined && b.dockerfile_inline !== undefined) {
      fail(`${at}.build`, 'dockerfile and dockerfile_inline cannot both be set');
    }
    if (b.dockerfile === undefined && b.dockerfile_inline === undefined) b.dockerfile = 'Dockerfile';
  }
  if (!out.image && !out.build && !out.provider) {
    fail(at, `service ${JSON.stringify(name)} has neither an image nor a build context`, 'set image: or build:');
  }
  if (out.network_mode !== undefined && out.networks !== undefined) {
    fail(`${at}.network_mode`, 'network_mode and networks cannot be combined');
  }
  if (out.network_mode === undefined && out.networks === undefined) out.networks = { default: null };
  if (out.scale !== undefined && out.deploy?.replicas !== undefined && out.scale !== out.deploy.replicas) {
    fail(`${at}.scale`, `scale (${out.scale}) and deploy.replicas (${out.deploy.replicas}) differ`, 'keep one of them');
  }
  if (out.healthcheck?.disable && out.healthcheck.test && out.healthcheck.test[0] !== 'NONE') {
    fail(`${at}.healthcheck`, 'test and disable cannot both be set');
  }
  return out;
}

function resolveServiceEnvironment(name: string, svc: ComposeService, lookup: VariableLookup, fail: Fail): void {
  if (svc.env_file?.length) {
    const fromFiles: Record<string, string> = {};
    svc.env_file.forEach((f, i) => {
      if (!existsSync(f.path)) {
        if (f.required)
          fail(
            `services.${name}.env_file[${i}]`,
            `env file ${f.path} not found`,
            'create it, or mark it `required: false`',
          );
        return;
      }
      try {
        Object.assign(
          fromFiles,
          parseDotenv(readFileSync(f.path, 'utf8'), (k) => fromFiles[k] ?? lookup(k)),
        );
      } catch (e) {
        if (!(e instanceof DotenvError)) throw e;
        fail(`services.${name}.env_file[${i}]`, `${f.path}:${e.line}: ${e.message}`, e.hint);
      }
    });
    svc.environment = { ...fromFiles, ...svc.environment };
  }
  if (svc.environment) {
    for (const [k, v] of Object.entries(svc.environment)) {
      if (v === null) {
        const found = lookup(k);
        if (found !== undefined) svc.environment[k] = found;
      }
    }
  }
  if (svc.build?.args) {
    for (const [k, v] of Object.entries(svc.build.args)) {
      if (v === null) {
        const found = lookup(k);
        if (found !== undefined) svc.build.args[k] = found;
      }
    }
  }
}

interface References {
  services: Record<string, ComposeService>;
  disabledServices: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
  volumes: Record<string, ComposeVolume>;
  secrets: Record<string, ComposeFileObject>;
  configs: Record<string, ComposeFileObject>;
}

function checkReferences(r: References, fail: Fail): void {
  const names = Object.keys(r.services);
  for (const [name, svc] of Object.entries(r.services)) {
    const at = `services.${name}`;
    for (const [dep, d] of Object.entries(svc.depends_on ?? {})) {
      if (dep === name) fail(`${at}.depends_on.${dep}`, `service ${JSON.stringify(name)} depends on itself`);
      else if (r.disabledServices[dep]) {
        if (d.required) {
          const profiles = r.disabledServices[dep].profiles?.join(', ');
          fail(
            `${at}.depends_on.${dep}`,
            `service ${JSON.stringify(name)} depends on ${JSON.stringify(dep)}, which is not enabled`,
            `enable one of its profiles (${profiles})`,
          );
        } else delete svc.depends_on![dep];
      } else if (!r.services[dep]) {
        fail(
          `${at}.depends_on.${dep}`,
          `service ${JSON.stringify(name)} depends on undefined service ${JSON.stringify(dep)}`,
          suggestHint(dep, names),
        );
      }
    }
    for (const net of Object.keys(svc.networks ?? {})) {
      if (!r.networks[net])
        fail(
          `${at}.networks.${net}`,
          `service ${JSON.stringify(name)} refers to undefined network ${JSON.stringify(net)}`,
          'declare it under the top-level networks:',
        );
    }
    svc.volumes?.forEach((v, i) => {
      if (v.type === 'volume' && v.source && !r.volumes[v.source]) {
        fail(
          `${at}.volumes[${i}]`,
          `service ${JSON.stringify(name)} refers to undefined volume ${JSON.stringify(v.source)}`,
          'declare it under the top-level volumes:',
        );
      }
    });
    for (const kind of ['secrets', 'configs'] as const) {
      svc[kind]?.forEach((s, i) => {
        if (!r[kind][s.source])
          fail(
            `${at}.${kind}[${i}]`,
            `service ${JSON.stringify(name)} refers to undefined ${kind.slice(0, -1)} ${JSON.stringify(s.source)}`,
            `declare it under the top-level ${kind}:`,
          );
      });
    }
    svc.build?.secrets?.forEach((s, i) => {
      if (!r.secrets[s.source])
        fail(`${at}.build.secrets[${i}]`, `build refers to undefined secret ${JSON.stringify(s.source)}`);
    });
    for (const mode of ['network_mode', 'ipc', 'pid'] as const) {
      const v = svc[mode];
      if (typeof v === 'string' && v.startsWith('service:')) {
        const target = v.slice('service:'.length);
        if (!r.services[target]) fail(`${at}.${mode}`, `refers to undefined service ${JSON.stringify(target)}`);
      }
    }
    for (const from of svc.volumes_from ?? []) {
      const target = from.split(':')[0];
      if (!target.startsWith('container') && !r.services[target])
        fail(`${at}.volumes_from`, `refers to undefined service ${JSON.stringify(target)}`);
    }
  }
  const cycle = findDependencyCycle(r.services);
  if (cycle)
    fail(
      `services.${cycle[0]}.depends_on`,
      `dependency cycle: ${cycle.join(' -> ')}`,
      'remove one of these depends_on entries',
    );
}

/** A depends_on cycle as a list of names (first repeated last), if any. */
export function findDependencyCycle(
  services: Record<string, Pick<ComposeService, 'depends_on'>>,
): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 2 || !services[n]) return undefined;
    if (state.get(n) === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1);
    stack.push(n);
    for (const dep of Object.keys(services[n].depends_on ?? {})) {
      if (dep === n) continue;
      const c = visit(dep);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of Object.keys(services)) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

export type { ComposeProblem };
