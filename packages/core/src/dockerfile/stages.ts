import { suggest } from '../errors.js';
import { DockerfileError, ExpansionError } from './errors.js';
import { type ExpansionEnv, expandWord } from './expand.js';
import {
  type ArgInstruction,
  type DockerfileArgDeclaration,
  type DockerfileInstruction,
  type FromInstruction,
  type WordExpander,
  toInstruction,
} from './instructions.js';
import type { DockerfileDirectives } from './lexer.js';
import { type DockerfileAst, type DockerfileNode, parseDockerfileAst } from './parser.js';

/**
 * Phase 3–5 of the parse: the AST is cut into stages at each FROM, ARG/ENV scopes are tracked
 * step by step (global ARGs feed FROM lines only; a stage sees an ARG only once it declares it;
 * ENV wins over ARG), every instruction is expanded and typed, and `docker build --check` style
 * warnings are collected.
 */

export interface ParseDockerfileOptions {
  /** Shown in errors and warnings. */
  file?: string;
  /** `--build-arg NAME=VALUE` values. */
  buildArgs?: Readonly<Record<string, string>>;
  /** Target platform, `os/arch[/variant]`; defaults to linux and the host's architecture. */
  platform?: string;
  /** Platform of the builder; defaults to the target platform. */
  buildPlatform?: string;
  /**
   * The environment of a base image (from its config), when the caller has it: used for expansion
   * (`WORKDIR $HOME`) and to tell which variables are undefined. Unknown → undefined.
   */
  baseImageEnv?: (ref: string) => Readonly<Record<string, string>> | undefined;
}

export interface DockerfileWarning {
  /** BuildKit's check name, e.g. JSONArgsRecommended. */
  rule: string;
  message: string;
  file?: string;
  line: number;
  url: string;
}

/** The state a step runs in (before the step itself applies). */
export interface DockerfileStepScope {
  /** ARGs declared in the stage so far that have a value (build-arg, default or global). */
  args: Readonly<Record<string, string>>;
  /** ENV of the stage so far: the base's (when known) plus this stage's ENV instructions. */
  env: Readonly<Record<string, string>>;
  /** Absolute working directory ("/" when never set and unknown from the base). */
  workdir: string;
  user?: string;
  /** The SHELL for shell-form commands. */
  shell: readonly string[];
}

export type DockerfileStep = DockerfileInstruction & { scope: DockerfileStepScope };

export type DockerfileStageBase =
  | { kind: 'scratch' }
  | { kind: 'image'; ref: string }
  | { kind: 'stage'; index: number; name: string };

export interface DockerfileStage {
  index: number;
  /** Lower-case stage name from `FROM … AS name`. */
  name?: string;
  from: FromInstruction;
  base: DockerfileStageBase;
  /** `FROM --platform=…` after expansion. */
  platform?: string;
  /** Instructions after FROM, in order, each with its scope. */
  steps: DockerfileStep[];
  /** Whether the base image's environment was known when the stage was expanded. */
  baseEnvKnown: boolean;
}

export interface Dockerfile {
  file?: string;
  directives: DockerfileDirectives;
  escapeToken: string;
  /** ARGs before the first FROM, with their effective values. */
  globalArgs: DockerfileArgDeclaration[];
  stages: DockerfileStage[];
  warnings: DockerfileWarning[];
  /** Build args given but never declared by an ARG (docker prints them as unconsumed). */
  unusedBuildArgs: string[];
  ast: DockerfileAst;
}

/** Proxy args are passed to RUN without an ARG and kept out of cache keys and history, as docker does. */
export const PROXY_BUILD_ARGS = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
] as const;

const DEFAULT_SHELL = ['/bin/sh', '-c'] as const;
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;
const SECRET_NAME =
  /(?:^|_)(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)(?:_|$)/i;
const SECRET_ALLOWED = /(?:^|_)(?:PUBLIC|PUB)(?:_|$)|_FILE$|_PATH$|_DIR$/i;

function hostArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'arm64';
    case 'arm':
      return 'arm/v7';
    case 'ia32':
      return '386';
    default:
      return process.arch;
  }
}

/** The predefined platform ARGs for a platform pair. */
export function platformArgs(platform: string, buildPlatform: string): Record<string, string> {
  const [tos = 'linux', tarch = 'amd64', tvariant = ''] = platform.split('/');
  const [bos = 'linux', barch = 'amd64', bvariant = ''] = buildPlatform.split('/');
  return {
    TARGETPLATFORM: platform,
    TARGETOS: tos,
    TARGETARCH: tarch,
    TARGETVARIANT: tvariant,
    BUILDPLATFORM: buildPlatform,
    BUILDOS: bos,
    BUILDARCH: barch,
    BUILDVARIANT: bvariant,
  };
}

interface CheckConfig {
  skip: Set<string>;
  all: boolean;
  error: boolean;
}

function parseCheckDirective(value: string | undefined): CheckConfig {
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

function freeze<T extends object>(o: T): T {
  return o;
}

/** A plausible image reference: lower-case repository, optional registry, tag and digest. */
function checkImageRef(ref: string): string | undefined {
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

function joinPath(base: string, p: string): string {
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
export function parseDockerfile(source: string, options: ParseDockerfileOptions = {}): Dockerfile {
  const file = options.file;
  const ast = parseDockerfileAst(source, { file });
  const buildArgs = options.buildArgs ?? {};
  const platform = options.platform ?? `linux/${hostArch()}`;
  const predefined = platformArgs(platform, options.buildPlatform ?? platform);
  const checks = parseCheckDirective(ast.directives.check);
  const warnings: DockerfileWarning[] = [];
  const usedBuildArgs = new Set<string>();
  const escapeToken = ast.escapeToken;

  const warn = (rule: string, message: string, line: number): void => {
    if (checks.all || checks.skip.has(rule)) return;
    warnings.push({
      rule,
      message,
      ...(file === undefined ? {} : { file }),
      line,
      url: `https://docs.docker.com/go/dockerfile/rule/${kebab(rule)}/`,
    });
  };

  for (const line of ast.emptyContinuationLines) warn('NoEmptyContinuation', 'Empty continuation line', line);
  checkCasing(ast.nodes, warn);

  if (ast.nodes.length === 0) {
    throw new DockerfileError(
      'DOCKERFILE_EMPTY',
      'the Dockerfile has no instructions',
      file,
      1,
      1,
      'start it with FROM IMAGE',
    );
  }

  // Global scope: ARGs before the first FROM, visible to FROM lines only.
  const globalValues = new Map<string, string | undefined>(Object.entries(predefined));
  const globalArgs: DockerfileArgDeclaration[] = [];
  let i = 0;
  for (; i < ast.nodes.length && ast.nodes[i].keyword !== 'FROM'; i++) {
    const node = ast.nodes[i];
    if (node.keyword !== 'ARG') {
      throw new DockerfileError(
        'DOCKERFILE_NO_FROM',
        `${node.keyword} before FROM: no build stage in current context`,
        file,
        node.line,
        node.column,
        'a Dockerfile must start with FROM (only ARG and parser directives may come before it)',
      );
    }
    const instr = toInstruction(node, file, makeExpander(globalValues, escapeToken, node, file)) as ArgInstruction;
    for (const a of instr.args) {
      const def =
        a.defaultValue === undefined ? undefined : expandAt(a.defaultValue, globalValues, escapeToken, node, file);
      const value = Object.hasOwn(buildArgs, a.name) ? buildArgs[a.name] : def;
      if (Object.hasOwn(buildArgs, a.name)) usedBuildArgs.add(a.name);
      const decl: DockerfileArgDeclaration = { name: a.name };
      if (def !== undefined) decl.defaultValue = def;
      if (value !== undefined) decl.value = value;
      globalArgs.push(decl);
      globalValues.set(a.name, value);
      checkSecretName(a.name, 'ARG', node.line, warn);
    }
  }
  if (i === ast.nodes.length) {
    const last = ast.nodes[ast.nodes.length - 1];
    throw new DockerfileError(
      'DOCKERFILE_NO_FROM',
      'no FROM instruction: the Dockerfile has no build stage',
      file,
      last.line,
      1,
      'add FROM IMAGE',
    );
  }
  const globalNames = new Set(globalArgs.map((a) => a.name));

  const stages: DockerfileStage[] = [];
  let stage: DockerfileStage | undefined;
  let scope: DockerfileStepScope = { args: {}, env: {}, workdir: '/', shell: DEFAULT_SHELL };
  let declared = new Set<string>();
  let seenWorkdir = false;
  let counts = new Map<string, number>();

  const finishStage = (): void => {
    if (!stage) return;
    for (const kw of ['CMD', 'ENTRYPOINT', 'HEALTHCHECK']) {
      const lines = stage.steps.filter((s) => s.keyword === kw).map((s) => s.line);
      if (lines.length > 1) {
        for (const l of lines.slice(0, -1)) {
          warn(
            'MultipleInstructionsDisallowed',
            `Multiple ${kw} instructions should not be used in the same stage because only the last one will be used`,
            l,
          );
        }
      }
    }
  };
  const finalScopes: DockerfileStepScope[] = [];

  for (; i < ast.nodes.length; i++) {
    const node = ast.nodes[i];
    if (node.keyword === 'FROM') {
      finishStage();
      if (stage) finalScopes.push(scope);
      const fromExpander = makeExpander(globalValues, escapeToken, node, file, (name) => {
        if (!globalNames.has(name) && !(name in predefined)) {
          warn(
            'UndefinedArgInFrom',
            `FROM argument '${name}' is not declared${didYouMean(name, [...globalNames])}`,
            node.line,
          );
        }
      });
      const from = toInstruction(node, file, fromExpander) as FromInstruction;
      const refError = checkImageRef(from.image);
      if (refError) {
        throw new DockerfileError(
          'DOCKERFILE_INVALID_REFERENCE',
          refError,
          file,
          node.line,
          node.column,
          'write FROM IMAGE[:TAG], e.g. FROM alpine:3.20',
        );
      }
      if (/\$\{?TARGETPLATFORM\}?$/.test(node.flags.find((f) => f.name === 'platform')?.value ?? '')) {
        warn(
          'RedundantTargetPlatform',
          'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
          node.line,
        );
      }
      if (node.args.length === 3) {
        const as = node.args[1];
        const fromUpper = node.rawKeyword === node.rawKeyword.toUpperCase();
        const asUpper = as === as.toUpperCase();
        if (fromUpper !== asUpper)
          warn('FromAsCasing', `'${as}' and '${node.rawKeyword}' keywords' casing do not match`, node.line);
        const rawName = node.args[2];
        if (rawName !== rawName.toLowerCase())
          warn('StageNameCasing', `Stage name '${rawName}' should be lowercase`, node.line);
        if (!STAGE_NAME.test(from.stageName!)) {
          throw new DockerfileError(
            'DOCKERFILE_INVALID_STAGE_NAME',
            `invalid name for build stage: "${rawName}", name can't start with a number or contain symbols`,
            file,
            node.line,
            node.column,
            'use letters, digits, "-", "_" and "." starting with a letter',
          );
        }
        if (from.stageName === 'scratch' || from.stageName === 'context') {
          warn(
            'ReservedStageName',
            `Stage name should not use the same name as reserved stage '${from.stageName}'`,
            node.line,
          );
        }
        if (stages.some((s) => s.name === from.stageName)) {
          warn(
            'DuplicateStageName',
            `Duplicate stage name "${from.stageName}", stage names should be unique`,
            node.line,
          );
        }
      }
      const lower = from.image.toLowerCase();
      let base: DockerfileStageBase;
      let env: Record<string, string> = {};
      let baseEnvKnown = true;
      let workdir = '/';
      let user: string | undefined;
      let shell: readonly string[] = DEFAULT_SHELL;
      const parent = [...stages].reverse().find((s) => s.name !== undefined && s.name === lower);
      if (parent) {
        base = { kind: 'stage', index: parent.index, name: parent.name! };
        const ps = finalScopes[parent.index];
        env = { ...ps.env };
        workdir = ps.workdir;
        user = ps.user;
        shell = ps.shell;
        baseEnvKnown = parent.baseEnvKnown;
      } else if (lower === 'scratch') {
        base = { kind: 'scratch' };
      } else {
        base = { kind: 'image', ref: from.image };
        const known = options.baseImageEnv?.(from.image);
        baseEnvKnown = known !== undefined;
        env = { ...(known ?? {}) };
      }
      stage = { index: stages.length, from, base, steps: [], baseEnvKnown };
      if (from.stageName) stage.name = from.stageName;
      if (from.platform) stage.platform = from.platform;
      stages.push(stage);
      scope = user === undefined ? { args: {}, env, workdir, shell } : { args: {}, env, workdir, user, shell };
      declared = new Set();
      seenWorkdir = base.kind === 'stage';
      counts = new Map();
      continue;
    }
    if (!stage) continue;
    const current = stage;
    counts.set(node.keyword, (counts.get(node.keyword) ?? 0) + 1);

    const vars = scopeVariables(scope);
    const expander = makeExpander(vars, escapeToken, node, file, (name) => {
      if (!current.baseEnvKnown || declared.has(name)) return;
      warn('UndefinedVar', `Usage of undefined variable '$${name}'${didYouMean(name, [...vars.keys()])}`, node.line);
    });
    const instr = toInstruction(node, file, expander);
    const step = instr as DockerfileStep;
    step.scope = scope;
    current.steps.push(step);

    switch (instr.keyword) {
      case 'ARG': {
        const args = { ...scope.args };
        for (const a of instr.args) {
          declared.add(a.name);
          const def =
            a.defaultValue === undefined ? undefined : expandAt(a.defaultValue, vars, escapeToken, node, file);
          if (def !== undefined) a.defaultValue = def;
          let value: string | undefined;
          if (Object.hasOwn(buildArgs, a.name)) {
            value = buildArgs[a.name];
            usedBuildArgs.add(a.name);
          } else if (def !== undefined) value = def;
          else if (globalNames.has(a.name)) value = globalValues.get(a.name);
          else if (a.name in predefined) value = predefined[a.name];
          if (value !== undefined) {
            a.value = value;
            args[a.name] = value;
          } else delete args[a.name];
          checkSecretName(a.name, 'ARG', node.line, warn);
        }
        scope = { ...scope, args: freeze(args) };
        break;
      }
      case 'ENV': {
        const env = { ...scope.env };
        for (const p of instr.env) {
          env[p.key] = p.value;
          checkSecretName(p.key, 'ENV', node.line, warn);
        }
        if (node.legacy)
          warn(
            'LegacyKeyValueFormat',
            '"ENV key=value" should be used instead of legacy "ENV key value" format',
            node.line,
          );
        scope = { ...scope, env };
        break;
      }
      case 'LABEL':
        if (node.legacy)
          warn(
            'LegacyKeyValueFormat',
            '"LABEL key=value" should be used instead of legacy "LABEL key value" format',
            node.line,
          );
        break;
      case 'WORKDIR':
        if (!instr.path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(instr.path) && !seenWorkdir) {
          warn(
            'WorkdirRelativePath',
            `Relative workdir '${instr.path}' can have unexpected results if the base image changes`,
            node.line,
          );
        }
        seenWorkdir = true;
        scope = { ...scope, workdir: joinPath(scope.workdir, instr.path) };
        break;
      case 'USER':
        scope = { ...scope, user: instr.group === undefined ? instr.user : `${instr.user}:${instr.group}` };
        break;
      case 'SHELL':
        scope = { ...scope, shell: instr.shell };
        break;
      case 'CMD':
      case 'ENTRYPOINT':
        if (instr.command.form === 'shell') {
          warn(
            'JSONArgsRecommended',
            `JSON arguments recommended for ${instr.keyword} to prevent unintended behavior related to OS signals`,
            node.line,
          );
        }
        break;
      case 'MAINTAINER':
        warn('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', node.line);
        break;
      case 'EXPOSE':
        for (const w of node.args) {
          if (w.includes(':'))
            warn(
              'ExposeInvalidFormat',
              `EXPOSE instruction should not define an IP address or host-port mapping, found '${w}'`,
              node.line,
            );
          const proto = /\/([A-Za-z]+)$/.exec(w)?.[1];
          if (proto && proto !== proto.toLowerCase()) {
            warn('ExposeProtoCasing', `Defined protocol '${w}' in EXPOSE instruction should be lower case`, node.line);
          }
        }
        break;
    }
  }
  finishStage();

  if (checks.error && warnings.length > 0) {
    const w = warnings[0];
    throw new DockerfileError(
      'DOCKERFILE_CHECK_FAILED',
      `lint violation${warnings.length > 1 ? `s (${warnings.length})` : ''}: ${w.rule}: ${w.message}`,
      file,
      w.line,
      1,
      'fix the warnings or remove error=true from the # check= directive',
    );
  }

  const unusedBuildArgs = Object.keys(buildArgs).filter(
    (k) => !usedBuildArgs.has(k) && !(PROXY_BUILD_ARGS as readonly string[]).includes(k),
  );
  warnings.sort((a, b) => a.line - b.line);
  const out: Dockerfile = {
    directives: ast.directives,
    escapeToken,
    globalArgs,
    stages,
    warnings,
    unusedBuildArgs,
    ast,
  };
  if (file !== undefined) out.file = file;
  return out;
}

/** ARGs then ENV (ENV wins), computed once per scope object: scopes are shared until a step changes them. */
const scopeVarsCache = new WeakMap<DockerfileStepScope, Map<string, string | undefined>>();
function scopeVariables(scope: DockerfileStepScope): Map<string, string | undefined> {
  let vars = scopeVarsCache.get(scope);
  if (!vars) {
    vars = new Map<string, string | undefined>(Object.entries(scope.args));
    for (const [k, v] of Object.entries(scope.env)) vars.set(k, v);
    scopeVarsCache.set(scope, vars);
  }
  return vars;
}

function expandAt(
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

function makeExpander(
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

function didYouMean(name: string, candidates: string[]): string {
  const s = suggest(name, candidates);
  return s ? ` (did you mean $${s}?)` : '';
}

function checkSecretName(
  name: string,
  keyword: string,
  line: number,
  warn: (rule: string, message: string, line: number) => void,
): void {
  if (SECRET_NAME.test(name) && !SECRET_ALLOWED.test(name)) {
    warn('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (${keyword} "${name}")`, line);
  }
}

function checkCasing(nodes: DockerfileNode[], warn: (rule: string, message: string, line: number) => void): void {
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
