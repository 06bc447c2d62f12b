/** Phase 7 of the load: the project's name, from -p, COMPOSE_PROJECT_NAME, `name:` or the directory. */
import { basename } from 'node:path';

/** Lower-cases a directory name and keeps only what a project name may hold, as compose does. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

type Fail = (path: string, message: string, hint?: string) => void;

/** The name: explicit ones must be valid as written; a directory's name is normalised. */
export function resolveProjectName(
  option: string | undefined,
  fromEnv: string | undefined,
  fromFile: string | undefined,
  projectDir: string,
  fail: Fail,
): string {
  const explicit = option ?? fromEnv ?? fromFile;
  if (explicit !== undefined && explicit !== '') {
    if (!PROJECT_NAME.test(explicit)) {
      fail(
        option === undefined && fromEnv === undefined ? 'name' : '',
        `${JSON.stringify(explicit)} is not a valid project name`,
        'project names hold lower-case letters, digits, "_" and "-", and start with a letter or digit',
      );
    }
    return explicit;
  }
  const name = normalizeProjectName(basename(projectDir));
  if (!name) fail('', `cannot derive a project name from the directory ${projectDir}`, 'set one with -p or `name:`');
  return name;
}
