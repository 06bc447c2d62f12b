/**
 * Phase 10 of the load: each service's environment. `env_file` files are read in order (a later one
 * wins, `environment:` wins over them all), and entries without a value (`KEY`) take KEY from the
 * project's variables, or stay unset; `build.args` likewise. `label_file` files feed `labels` the same
 * way (compose-go WithServicesLabelsResolved): a later file wins, `labels:` wins over them all.
 */
import { existsSync } from 'node:fs';
import type { Fail } from './defaults.js';
import { DotenvError, parseDotenv } from './dotenv.js';
import type { VariableLookup } from './interpolate.js';
import { readComposeText, unreadableReason } from './locate.js';
import type { ComposeService } from './types.js';

export function resolveServiceEnvironment(name: string, svc: ComposeService, lookup: VariableLookup, fail: Fail): void {
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
      const why = unreadableReason(f.path);
      if (why) {
        fail(`services.${name}.env_file[${i}]`, `env file ${f.path} ${why}`);
        return;
      }
      try {
        Object.assign(
          fromFiles,
          parseDotenv(readComposeText(f.path, 'env file'), (k) => fromFiles[k] ?? lookup(k)),
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

/** Reads `label_file` files into the service's labels. */
export function resolveServiceLabels(name: string, svc: ComposeService, fail: Fail): void {
  if (!svc.label_file?.length) return;
  const fromFiles: Record<string, string> = {};
  svc.label_file.forEach((path, i) => {
    const why = unreadableReason(path);
    if (why) {
      fail(`services.${name}.label_file[${i}]`, `label file ${path} ${why}`);
      return;
    }
    try {
      Object.assign(
        fromFiles,
        parseDotenv(readComposeText(path, 'label file'), (k) => fromFiles[k]),
      );
    } catch (e) {
      if (!(e instanceof DotenvError)) throw e;
      fail(`services.${name}.label_file[${i}]`, `${path}:${e.line}: ${e.message}`, e.hint);
    }
  });
  svc.labels = { ...fromFiles, ...svc.labels };
}
