// Files named on the command line are checked here, before hyprd is asked to read or write them, so a
// wrong path is an error naming the path and the flag (as docker words it), not the daemon's Node text.
import { constants, accessSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError, systemErrorText } from './errors.js';

/** A file a command reads (`load -i`): it exists, is a file, and can be read. */
export function checkInputFile(path: string, flag: string): void {
  try {
    if (statSync(path).isDirectory())
      throw new CliError(`read ${path}: is a directory`, 1, `${flag} names an archive file`, 'CLI_FLAG_INVALID');
    accessSync(path, constants.R_OK);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const text = systemErrorText(e as NodeJS.ErrnoException) ?? (e as Error).message;
    throw new CliError(
      text.replace(/^(stat|access) /, 'open '),
      1,
      `${flag} names an archive file`,
      'CLI_FILE_NOT_FOUND',
    );
  }
}

/** A file a command writes (`save -o`): its directory exists, and the path is not a directory. */
export function checkOutputFile(path: string, flag: string): void {
  const dir = dirname(path);
  let dirStat: ReturnType<typeof statSync> | undefined;
  try {
    dirStat = statSync(dir);
  } catch {
    /* reported below */
  }
  const hint = `${flag} names the file to write; its directory must exist`;
  if (!dirStat)
    throw new CliError(`invalid output path: directory "${dir}" does not exist`, 1, hint, 'CLI_FILE_NOT_WRITABLE');
  if (!dirStat.isDirectory())
    throw new CliError(`invalid output path: "${dir}" is not a directory`, 1, hint, 'CLI_FILE_NOT_WRITABLE');
  try {
    if (statSync(path).isDirectory())
      throw new CliError(`invalid output path: "${path}" is a directory`, 1, hint, 'CLI_FILE_NOT_WRITABLE');
  } catch (e) {
    if (e instanceof CliError) throw e; // a missing file is what we want
  }
}
