/** Expansion in a step's scope (ARGs, then ENV over them), with located errors; paths of WORKDIR. */
import { DockerfileError, ExpansionError } from './errors.js';
import { type ExpansionEnv, expandWord } from './expand.js';
import type { WordExpander } from './instruction-types.js';
import type { DockerfileNode } from './parser.js';
import type { DockerfileStepScope } from './stage-types.js';

/** WORKDIR `p` from `base`, cleaned (`..` and `.` resolved). */
export function joinWorkdir(base: string, p: string): string {
  const full = p.startsWith('/') ? p : `${base.endsWith('/') ? base : `${base}/`}${p}`;
  const parts: string[] = [];
  for (const seg of full.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/** Parses a Dockerfile into stages of typed, expanded steps. Throws DockerfileError (a SourceError). */
/** ARGs then ENV (ENV wins), computed once per scope object: scopes are shared until a step changes them. */
const scopeVarsCache = new WeakMap<DockerfileStepScope, Map<string, string | undefined>>();
export function scopeVariables(scope: DockerfileStepScope): Map<string, string | undefined> {
  let vars = scopeVarsCache.get(scope);
  if (!vars) {
    vars = new Map<string, string | undefined>(Object.entries(scope.args));
    for (const [k, v] of Object.entries(scope.env)) vars.set(k, v);
    scopeVarsCache.set(scope, vars);
  }
  return vars;
}

export function expandAt(
  word: string,
  env: ExpansionEnv,
  escapeToken: string,
  node: DockerfileNode,
  file: string | undefined,
): string {
  try {
    return expandWord(word, env, { escape: escapeToken }).value;
  } catch (e) {
    if (e instanceof ExpansionError) throw new DockerfileError(e.code, e.message, file, node.line, node.column);
    throw e;
  }
}

export function makeExpander(
  env: ExpansionEnv,
  escapeToken: string,
  node: DockerfileNode,
  file: string | undefined,
  onUndefined?: (name: string) => void,
): WordExpander {
  const reported = new Set<string>();
  return (word, opts) => {
    if (!word.includes('$') && !word.includes('"') && !word.includes("'") && !word.includes(escapeToken)) return word;
    let r: ReturnType<typeof expandWord>;
    try {
      r = expandWord(word, env, { escape: escapeToken, processQuotes: opts?.processQuotes ?? true });
    } catch (e) {
      if (e instanceof ExpansionError) throw new DockerfileError(e.code, e.message, file, node.line, node.column);
      throw e;
    }
    if (onUndefined) {
      for (const name of r.unmatched) {
        if (reported.has(name) || !/^[A-Za-z_]/.test(name)) continue;
        reported.add(name);
        onUndefined(name);
      }
    }
    return r.value;
  };
}
