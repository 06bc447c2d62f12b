/**
 * The `docker build --check` rules HYPR reports as warnings (BuildKit's linter), and the `# check=`
 * directive that skips them or turns them into an error.
 */
import { suggest } from '../errors.js';
import type { DockerfileNode } from './parser.js';
import type { DockerfileWarning } from './stage-types.js';

const SECRET_NAME =
  /(?:^|_)(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)(?:_|$)/i;
const SECRET_ALLOWED = /(?:^|_)(?:PUBLIC|PUB)(?:_|$)|_FILE$|_PATH$|_DIR$/i;

/** Records a warning by rule name at a line (unless the check directive skips it). */
export type Warn = (rule: string, message: string, line: number) => void;

export interface CheckConfig {
  skip: Set<string>;
  all: boolean;
  error: boolean;
}

export function parseCheckDirective(value: string | undefined): CheckConfig {
  const cfg: CheckConfig = { skip: new Set(), all: false, error: false };
  if (!value) return cfg;
  for (const part of value.split(';')) {
    const [k, v = ''] = part.split('=').map((s) => s.trim());
    if (k === 'skip') {
      for (const rule of v.split(',').map((s) => s.trim())) {
        if (rule === 'all') cfg.all = true;
        else if (rule) cfg.skip.add(rule);
      }
    } else if (k === 'error') cfg.error = v === 'true';
  }
  return cfg;
}

/** The warner of one parse: warnings go to `out`, rules skipped by the directive are dropped. */
export function createWarner(file: string | undefined, checks: CheckConfig, out: DockerfileWarning[]): Warn {
  return (rule, message, line) => {
    if (checks.all || checks.skip.has(rule)) return;
    out.push({
      rule,
      message,
      ...(file === undefined ? {} : { file }),
      line,
      url: `https://docs.docker.com/go/dockerfile/rule/${kebab(rule)}/`,
    });
  };
}

export function didYouMean(name: string, candidates: string[]): string {
  const s = suggest(name, candidates);
  return s ? ` (did you mean $${s}?)` : '';
}

export function checkSecretName(name: string, keyword: string, line: number, warn: Warn): void {
  if (SECRET_NAME.test(name) && !SECRET_ALLOWED.test(name)) {
    warn('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (${keyword} "${name}")`, line);
  }
}

export function checkCasing(nodes: DockerfileNode[], warn: Warn): void {
  let upper = 0;
  let lower = 0;
  for (const n of nodes) {
    if (n.rawKeyword === n.rawKeyword.toUpperCase()) upper++;
    else if (n.rawKeyword === n.rawKeyword.toLowerCase()) lower++;
  }
  const majority = lower > upper ? 'lowercase' : 'uppercase';
  for (const n of nodes) {
    const isUpper = n.rawKeyword === n.rawKeyword.toUpperCase();
    const isLower = n.rawKeyword === n.rawKeyword.toLowerCase();
    if ((majority === 'uppercase' && !isUpper) || (majority === 'lowercase' && !isLower)) {
      warn(
        'ConsistentInstructionCasing',
        `Command '${n.rawKeyword}' should match the case of the command majority (${majority})`,
        n.line,
      );
    }
  }
}

function kebab(rule: string): string {
  return rule
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** A plausible image reference: lower-case repository, optional registry, tag and digest. */
export function checkImageRef(ref: string): string | undefined {
  if (ref.trim() === '') return 'base name should not be blank';
  const m =
    /^((?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[^:@]+)(?::([\w][\w.-]{0,127}))?(?:@([a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$/.exec(
      ref,
    );
  if (!m) return `invalid reference format: ${ref}`;
  const path =
    m[1].includes('/') && /[.:]|^localhost$/.test(m[1].split('/')[0]) ? m[1].slice(m[1].indexOf('/') + 1) : m[1];
  if (path !== path.toLowerCase()) return `invalid reference format: repository name (${path}) must be lowercase`;
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) {
    return `invalid reference format: ${ref}`;
  }
  return undefined;
}
