/**
 * Phase 0 of the load: where the files are and what the environment holds. The environment is the
 * shell over `--env-file` files (or `.env` in the project directory); the files are `-f`, else
 * COMPOSE_FILE, else compose.yaml (or a variant) and its override in the working directory or the
 * nearest parent holding one. Every file is read through readComposeText, whose failures name the
 * file and say what is wrong with it instead of passing Node's EISDIR/ENOENT text on.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HyprError } from '../errors.js';
import { DotenvError, parseDotenv } from './dotenv.js';
import { ComposeValidationError } from './errors.js';
import type { VariableLookup } from './interpolate.js';

export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const COMPOSE_OVERRIDE_FILE_NAMES = [
  'compose.override.yaml',
  'compose.override.yml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
];

/** Finds compose.yaml (or a variant) and its override in `dir` or the nearest parent holding one. */
export function findComposeFiles(dir: string): string[] | undefined {
  let d = resolve(dir);
  for (;;) {
    const main = COMPOSE_FILE_NAMES.map((n) => join(d, n)).find((p) => isFile(p));
    if (main) {
      const override = COMPOSE_OVERRIDE_FILE_NAMES.map((n) => join(d, n)).find((p) => isFile(p));
      return override ? [main, override] : [main];
    }
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Why a file cannot be read, in words, or undefined when it can. */
export function unreadableReason(file: string): string | undefined {
  try {
    const s = statSync(file);
    if (s.isDirectory()) return 'is a directory, not a file';
    if (!s.isFile()) return 'is not a regular file';
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist';
    if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
    return `cannot be read (${code ?? (e as Error).message})`;
  }
}

/** Reads a file the load needs; failures are ComposeValidationErrors naming the file and its role. */
export function readComposeText(file: string, role: string, hint?: string): string {
  const why = unreadableReason(file);
  if (why === undefined) {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw unreadable(file, role, `cannot be read (${code ?? (e as Error).message})`, hint);
    }
  }
  throw unreadable(file, role, why, hint);
}

function unreadable(file: string, role: string, why: string, hint?: string): ComposeValidationError {
  return new ComposeValidationError([
    { code: 'COMPOSE_FILE_UNREADABLE', path: '', file, message: `${role} ${file} ${why}`, hint },
  ]);
}

/** Reads dotenv files in order into one mapping; `lookup` resolves references the files do not define. */
export function readDotenvFiles(
  files: readonly string[],
  lookup: VariableLookup,
  required: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of files) {
    if (!required && !existsSync(file)) continue;
    if (required && !existsSync(file)) {
      throw new ComposeValidationError([{ path: '', file, message: `env file ${file} not found` }]);
    }
    const text = readComposeText(file, 'env file');
    try {
      Object.assign(
        out,
        parseDotenv(text, (k) => lookup(k) ?? out[k]),
      );
    } catch (e) {
      if (!(e instanceof DotenvError)) throw e;
      throw new ComposeValidationError([{ path: '', file, line: e.line, message: e.message, hint: e.hint }]);
    }
  }
  return out;
}

export interface ComposeLocation {
  workingDir: string;
  /** Shell environment over the dotenv files: what interpolation reads. */
  environment: Record<string, string>;
  files: string[];
  projectDir: string;
}

/** Phase 0: the environment, then the files, then the project directory. */
export function locateProject(options: {
  workingDir?: string;
  files?: string[];
  projectDir?: string;
  env?: Record<string, string | undefined>;
  envFiles?: string[];
}): ComposeLocation {
  const workingDir = resolve(options.workingDir ?? process.cwd());
  const shell = options.env ?? process.env;
  const shellLookup: VariableLookup = (name) => shell[name];
  const earlyProjectDir = options.projectDir ? resolve(workingDir, options.projectDir) : workingDir;
  const dotenv = options.envFiles
    ? readDotenvFiles(
        options.envFiles.map((f) => resolve(workingDir, f)),
        shellLookup,
        true,
      )
    : readDotenvFiles([join(earlyProjectDir, '.env')], shellLookup, false);
  const environment: Record<string, string> = { ...dotenv };
  for (const [k, v] of Object.entries(shell)) if (v !== undefined) environment[k] = v;

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
  for (const file of files) {
    if (!existsSync(file)) {
      throw new HyprError('COMPOSE_FILE_NOT_FOUND', `compose file ${file} not found`, 'check the path given with -f');
    }
    const why = unreadableReason(file);
    if (why) throw unreadable(file, 'compose file', why, 'name a compose file with -f, not a directory');
  }
  const projectDir = options.projectDir ? resolve(workingDir, options.projectDir) : dirname(files[0]);
  return { workingDir, environment, files, projectDir };
}
