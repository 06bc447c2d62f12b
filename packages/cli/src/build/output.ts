/**
 * `-o/--output`: where the final stage's filesystem goes besides the image. The daemon streams it
 * as a tar; the CLI, as the caller, writes it: `type=local,dest=DIR` unpacks into DIR,
 * `type=tar,dest=FILE` writes the tar (`dest=-`: stdout). `-o DIR` is `type=local,dest=DIR`,
 * `-o -` is `type=tar,dest=-`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Unpack } from 'tar';
import { CliError } from '../hypr-command.js';

export interface BuildOutput {
  type: 'local' | 'tar';
  dest: string;
}

export function parseOutputFlag(value: string): BuildOutput {
  if (!value.includes('=')) return value === '-' ? { type: 'tar', dest: '-' } : { type: 'local', dest: value };
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new CliError(`invalid value "${value}" for flag --output: ${part} is not KEY=VALUE`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'local';
  if (type !== 'local' && type !== 'tar')
    throw new CliError(
      `invalid value "${value}" for flag --output: exporter type "${type}" is not supported`,
      1,
      'use type=local,dest=DIR or type=tar,dest=FILE (the image itself is always stored; -t names it)',
    );
  const dest = fields.get('dest');
  if (!dest)
    throw new CliError(`invalid value "${value}" for flag --output: dest is required`, 1, `write type=${type},dest=…`);
  return { type, dest };
}

/** A writable for the export's tar chunks, and a promise that settles when it is all on disk. */
export async function openOutput(
  o: BuildOutput,
  cwd = process.cwd(),
): Promise<{ sink: Writable; done: Promise<void> }> {
  if (o.type === 'tar') {
    const sink = o.dest === '-' ? process.stdout : createWriteStream(resolve(cwd, o.dest));
    const done = new Promise<void>((res, rej) => {
      if (sink === process.stdout) sink.once('finish', () => res());
      else sink.once('close', () => res());
      sink.once('error', (e) => rej(new CliError(`cannot write ${o.dest}: ${(e as Error).message}`)));
    });
    return { sink, done };
  }
  const dir = resolve(cwd, o.dest);
  await mkdir(dir, { recursive: true }).catch((e) => {
    throw new CliError(`cannot create ${o.dest}: ${(e as Error).message}`);
  });
  const unpack = new Unpack({ cwd: dir });
  const done = new Promise<void>((res, rej) => {
    unpack.on('close', () => res());
    unpack.on('error', (e: Error) => rej(new CliError(`cannot unpack into ${o.dest}: ${e.message}`)));
  });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      if (unpack.write(chunk)) cb();
      else unpack.once('drain', () => cb());
    },
    final(cb) {
      unpack.end();
      cb();
    },
  });
  return { sink, done };
}
