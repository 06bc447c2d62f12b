/**
 * loadCompose: the compose load pipeline, one phase after the other (docs/compose.md describes them):
 *
 *  0. locate   the files (-f, COMPOSE_FILE, or compose.yaml … and its override in the directory or above)
 *              and the environment (shell over --env-file / .env)                          locate.ts
 *  1. parse    each document's YAML (anchors, aliases, `<<` merge keys), keeping lines and tags  yaml-source.ts
 *  2. interpolate every value with the environment ($VAR, ${VAR:-default} …)               interpolate.ts
 *  3. validate each document against the Compose Specification schema (zod)                schema.ts
 *  4. normalise each document to the canonical shapes (long syntaxes, mappings, absolute paths)  normalize.ts
 *  5. include the projects a document includes, then resolve `extends`          include.ts, extends.ts
 *  6. merge    the documents and files in order with the Compose merge rules                merge.ts
 *  7. name     the project (-p, COMPOSE_PROJECT_NAME, `name:`, or the directory)           project-name.ts
 *  8. defaults: build context and Dockerfile, the default network, resource names          defaults.ts
 *  9. profiles: leave out services none of whose profiles is enabled                       profiles.ts
 * 10. environment: read env_file files, resolve `KEY` entries from the environment          service-environment.ts
 * 11. check    secrets, configs and volumes, the references between them, and cycles   resources.ts, references.ts
 *
 * Each phase collects every problem it finds; the load stops after the first phase with problems and
 * throws them all in one ComposeValidationError (a ComposeValidationError with a file, line and key
 * path for each: no raw Node or YAML error reaches the caller).
 */
import { type Logger, silentLogger } from '../log.js';
import { applyServiceDefaults } from './defaults.js';
import { type ComposeProblem, ProblemList } from './errors.js';
import type { VariableLookup } from './interpolate.js';
import { LayerLoader } from './layers.js';
import { locateProject } from './locate.js';
import { emptyLayer } from './merge.js';
import { applyProfiles, enabledProfiles } from './profiles.js';
import { resolveProjectName } from './project-name.js';
import { checkReferences } from './references.js';
import { checkResources, nameResources } from './resources.js';
import { resolveServiceEnvironment, resolveServiceLabels } from './service-environment.js';
import type { ComposeProject, ComposeService } from './types.js';

export { COMPOSE_FILE_NAMES, COMPOSE_OVERRIDE_FILE_NAMES, findComposeFiles } from './locate.js';
export { normalizeProjectName } from './project-name.js';
export { findDependencyCycle } from './references.js';

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

/** Loads, merges, checks and normalises a compose project. Throws ComposeValidationError listing every problem. */
export function loadCompose(options: LoadComposeOptions = {}): ComposeProject {
  const log = (options.logger ?? silentLogger).child({ op: 'compose-load' });
  // Phase 0.
  const { environment, files, projectDir } = locateProject(options);
  log.debug({ files, projectDir }, 'compose files located');
  const lookup: VariableLookup = (name) => environment[name];

  // Phases 1–6.
  const loader = new LayerLoader(lookup);
  let merged = emptyLayer();
  for (const file of files) {
    merged = loader.loadTopFile(file, projectDir, merged);
    loader.problems.throwIfAny();
  }
  const warnings = [...loader.warnings];
  for (const name of loader.missing)
    warnings.push(`the ${JSON.stringify(name)} variable is not set; defaulting to a blank string`);

  const problems = new ProblemList();
  const fail = (path: string, message: string, hint?: string) =>
    problems.add(locate(loader, files, path, message, hint));

  // Phase 7.
  const name = resolveProjectName(options.projectName, environment.COMPOSE_PROJECT_NAME, merged.name, projectDir, fail);
  problems.throwIfAny();

  // Phase 8.
  const services: Record<string, ComposeService> = {};
  for (const [sname, svc] of Object.entries(merged.services)) {
    services[sname] = applyServiceDefaults(sname, svc, projectDir, fail);
  }

  // Phase 9.
  const disabledServices = applyProfiles(
    services,
    enabledProfiles(options.profiles, environment.COMPOSE_PROFILES),
    options.services ?? [],
    fail,
  );

  // Phase 10.
  for (const [sname, svc] of Object.entries(services)) {
    resolveServiceEnvironment(sname, svc, lookup, fail);
    resolveServiceLabels(sname, svc, fail);
  }
  problems.throwIfAny();

  // Phase 11.
  const resources = nameResources(name, merged, services);
  checkResources(merged, environment, fail, (m) => warnings.push(m));
  checkReferences({ services, disabledServices, ...resources }, fail);
  problems.throwIfAny();

  const project: ComposeProject = {
    name,
    workingDir: projectDir,
    services,
    ...resources,
    disabledServices,
    files,
    environment,
    warnings,
  };
  if (Object.keys(merged.extensions).length > 0) project.extensions = merged.extensions;
  return project;
}

/** A problem found after the merge, placed in the last file that holds its key path (or its service). */
function locate(
  loader: LayerLoader,
  files: readonly string[],
  path: string,
  message: string,
  hint?: string,
): ComposeProblem {
  const reversed = [...files].reverse();
  let file = reversed.find((f) => loader.documents.get(f)?.some((d) => d.source.lines.has(path)));
  const svc = /^services\.([^.[]+)/.exec(path);
  if (!file && svc) file = reversed.find((f) => loader.documents.get(f)?.some((d) => d.layer.services[svc[1]]));
  file ??= files[files.length - 1];
  return { path, message, file, line: loader.lineIn(file, path), hint };
}

export type { ComposeProblem };
