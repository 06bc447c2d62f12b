/**
 * Phase 3–5 of the parse: the AST is cut into stages at each FROM, ARG/ENV scopes are tracked
 * step by step (global ARGs feed FROM lines only; a stage sees an ARG only once it declares it;
 * ENV wins over ARG), every instruction is expanded and typed, and `docker build --check` style
 * warnings are collected (checks.ts).
 */
import {
  type Warn,
  checkCasing,
  checkImageRef,
  checkSecretName,
  createWarner,
  didYouMean,
  parseCheckDirective,
} from './checks.js';
import { DockerfileError } from './errors.js';
import type {
  ArgInstruction,
  DockerfileArgDeclaration,
  DockerfileInstruction,
  FromInstruction,
} from './instruction-types.js';
import { toInstruction } from './instructions.js';
import { type DockerfileAst, type DockerfileNode, parseDockerfileAst } from './parser.js';
import { hostArch, platformArgs } from './platform.js';
import { expandAt, joinWorkdir, makeExpander, scopeVariables } from './scope.js';
import {
  type Dockerfile,
  type DockerfileStage,
  type DockerfileStageBase,
  type DockerfileStep,
  type DockerfileStepScope,
  type DockerfileWarning,
  PROXY_BUILD_ARGS,
  type ParseDockerfileOptions,
} from './stage-types.js';

export * from './stage-types.js';
export { platformArgs } from './platform.js';

const DEFAULT_SHELL = ['/bin/sh', '-c'] as const;
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** The state of one parse, stage after stage. */
class StageParser {
  readonly warnings: DockerfileWarning[] = [];
  readonly warn: Warn;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly predefined: Record<string, string>;
  readonly usedBuildArgs = new Set<string>();
  readonly globalValues: Map<string, string | undefined>;
  readonly globalArgs: DockerfileArgDeclaration[] = [];
  globalNames = new Set<string>();
  readonly stages: DockerfileStage[] = [];
  /** The last scope of each finished stage, by index: what `FROM <stage>` starts from. */
  readonly finalScopes: DockerfileStepScope[] = [];
  stage: DockerfileStage | undefined;
  scope: DockerfileStepScope = { args: {}, env: {}, workdir: '/', shell: DEFAULT_SHELL };
  declared = new Set<string>();
  seenWorkdir = false;

  constructor(
    readonly ast: DockerfileAst,
    readonly options: ParseDockerfileOptions,
  ) {
    this.warn = createWarner(options.file, parseCheckDirective(ast.directives.check), this.warnings);
    this.buildArgs = options.buildArgs ?? {};
    const platform = options.platform ?? `linux/${hostArch()}`;
    this.predefined = platformArgs(platform, options.buildPlatform ?? platform);
    this.globalValues = new Map<string, string | undefined>(Object.entries(this.predefined));
  }

  get file(): string | undefined {
    return this.options.file;
  }

  fail(code: 'DOCKERFILE_NO_FROM' | 'DOCKERFILE_EMPTY', message: string, line: number, column: number, hint: string) {
    return new DockerfileError(code, message, this.file, line, column, hint);
  }

  /** ARGs before the first FROM, visible to FROM lines only. Returns the index of the first FROM. */
  readGlobalArgs(): number {
    const { nodes } = this.ast;
    let i = 0;
    for (; i < nodes.length && nodes[i].keyword !== 'FROM'; i++) {
      const node = nodes[i];
      if (node.keyword !== 'ARG') {
        throw this.fail(
          'DOCKERFILE_NO_FROM',
          `${node.keyword} before FROM: no build stage in current context`,
          node.line,
          node.column,
          'a Dockerfile must start with FROM (only ARG and parser directives may come before it)',
        );
      }
      const expander = makeExpander(this.globalValues, this.ast.escapeToken, node, this.file);
      const instr = toInstruction(node, this.file, expander) as ArgInstruction;
      for (const a of instr.args) {
        const def =
          a.defaultValue === undefined
            ? undefined
            : expandAt(a.defaultValue, this.globalValues, this.ast.escapeToken, node, this.file);
        const given = Object.hasOwn(this.buildArgs, a.name);
        const value = given ? this.buildArgs[a.name] : def;
        if (given) this.usedBuildArgs.add(a.name);
        const decl: DockerfileArgDeclaration = { name: a.name };
        if (def !== undefined) decl.defaultValue = def;
        if (value !== undefined) decl.value = value;
        this.globalArgs.push(decl);
        this.globalValues.set(a.name, value);
        checkSecretName(a.name, 'ARG', node.line, this.warn);
      }
    }
    if (i === nodes.length) {
      const last = nodes[nodes.length - 1];
      throw this.fail(
        'DOCKERFILE_NO_FROM',
        'no FROM instruction: the Dockerfile has no build stage',
        last.line,
        1,
        'add FROM IMAGE',
      );
    }
    this.globalNames = new Set(this.globalArgs.map((a) => a.name));
    return i;
  }

  /** Warnings a stage gets once it is complete: a CMD, ENTRYPOINT or HEALTHCHECK given twice. */
  finishStage(): void {
    if (!this.stage) return;
    this.finalScopes.push(this.scope);
    for (const kw of ['CMD', 'ENTRYPOINT', 'HEALTHCHECK']) {
      const lines = this.stage.steps.filter((s) => s.keyword === kw).map((s) => s.line);
      for (const l of lines.slice(0, -1)) {
        this.warn(
          'MultipleInstructionsDisallowed',
          `Multiple ${kw} instructions should not be used in the same stage because only the last one will be used`,
          l,
        );
      }
    }
  }

  /** FROM: a new stage, its base (scratch, an earlier stage, an image) and the scope it starts with. */
  startStage(node: DockerfileNode): void {
    this.finishStage();
    const fromExpander = makeExpander(this.globalValues, this.ast.escapeToken, node, this.file, (name) => {
      if (!this.globalNames.has(name) && !(name in this.predefined)) {
        const message = `FROM argument '${name}' is not declared${didYouMean(name, [...this.globalNames])}`;
        this.warn('UndefinedArgInFrom', message, node.line);
      }
    });
    const from = toInstruction(node, this.file, fromExpander) as FromInstruction;
    this.checkFrom(node, from);
    const lower = from.image.toLowerCase();
    const parent = [...this.stages].reverse().find((s) => s.name !== undefined && s.name === lower);
    let base: DockerfileStageBase;
    let scope: DockerfileStepScope = { args: {}, env: {}, workdir: '/', shell: DEFAULT_SHELL };
    let baseEnvKnown = true;
    if (parent) {
      base = { kind: 'stage', index: parent.index, name: parent.name! };
      const ps = this.finalScopes[parent.index];
      scope = { args: {}, env: { ...ps.env }, workdir: ps.workdir, shell: ps.shell };
      if (ps.user !== undefined) scope.user = ps.user;
      baseEnvKnown = parent.baseEnvKnown;
    } else if (lower === 'scratch') {
      base = { kind: 'scratch' };
    } else {
      base = { kind: 'image', ref: from.image };
      const known = this.options.baseImageEnv?.(from.image);
      baseEnvKnown = known !== undefined;
      scope = { ...scope, env: { ...(known ?? {}) } };
    }
    const stage: DockerfileStage = { index: this.stages.length, from, base, steps: [], baseEnvKnown };
    if (from.stageName) stage.name = from.stageName;
    if (from.platform) stage.platform = from.platform;
    this.stages.push(stage);
    this.stage = stage;
    this.scope = scope;
    this.declared = new Set();
    this.seenWorkdir = base.kind === 'stage';
  }

  /** The reference, the stage name and the FROM-line warnings. */
  checkFrom(node: DockerfileNode, from: FromInstruction): void {
    const refError = checkImageRef(from.image);
    if (refError) {
      throw new DockerfileError(
        'DOCKERFILE_INVALID_REFERENCE',
        refError,
        this.file,
        node.line,
        node.column,
        'write FROM IMAGE[:TAG], e.g. FROM alpine:3.20',
      );
    }
    if (/\$\{?TARGETPLATFORM\}?$/.test(node.flags.find((f) => f.name === 'platform')?.value ?? '')) {
      this.warn(
        'RedundantTargetPlatform',
        'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
        node.line,
      );
    }
    if (node.args.length !== 3) return;
    const as = node.args[1];
    const fromUpper = node.rawKeyword === node.rawKeyword.toUpperCase();
    if (fromUpper !== (as === as.toUpperCase())) {
      this.warn('FromAsCasing', `'${as}' and '${node.rawKeyword}' keywords' casing do not match`, node.line);
    }
    const rawName = node.args[2];
    if (rawName !== rawName.toLowerCase()) {
      this.warn('StageNameCasing', `Stage name '${rawName}' should be lowercase`, node.line);
    }
    if (!STAGE_NAME.test(from.stageName!)) {
      throw new DockerfileError(
        'DOCKERFILE_INVALID_STAGE_NAME',
        `invalid name for build stage: "${rawName}", name can't start with a number or contain symbols`,
        this.file,
        node.line,
        node.column,
        'use letters, digits, "-", "_" and "." starting with a letter',
      );
    }
    if (from.stageName === 'scratch' || from.stageName === 'context') {
      const message = `Stage name should not use the same name as reserved stage '${from.stageName}'`;
      this.warn('ReservedStageName', message, node.line);
    }
    if (this.stages.some((s) => s.name === from.stageName)) {
      const message = `Duplicate stage name "${from.stageName}", stage names should be unique`;
      this.warn('DuplicateStageName', message, node.line);
    }
  }

  /** Any instruction after FROM: typed and expanded in the current scope, which it may then change. */
  applyStep(node: DockerfileNode): void {
    const stage = this.stage;
    if (!stage) return;
    const vars = scopeVariables(this.scope);
    const expander = makeExpander(vars, this.ast.escapeToken, node, this.file, (name) => {
      if (!stage.baseEnvKnown || this.declared.has(name)) return;
      this.warn(
        'UndefinedVar',
        `Usage of undefined variable '$${name}'${didYouMean(name, [...vars.keys()])}`,
        node.line,
      );
    });
    const instr = toInstruction(node, this.file, expander);
    const step = instr as DockerfileStep;
    step.scope = this.scope;
    stage.steps.push(step);
    this.updateScope(node, instr, vars);
    this.checkStep(node, instr);
  }

  /** ARG, ENV, WORKDIR, USER and SHELL change the scope the next steps run in. */
  updateScope(node: DockerfileNode, instr: DockerfileInstruction, vars: Map<string, string | undefined>): void {
    switch (instr.keyword) {
      case 'ARG': {
        const args = { ...this.scope.args };
        for (const a of instr.args) {
          this.declared.add(a.name);
          const def =
            a.defaultValue === undefined
              ? undefined
              : expandAt(a.defaultValue, vars, this.ast.escapeToken, node, this.file);
          if (def !== undefined) a.defaultValue = def;
          const value = this.argValue(a.name, def);
          if (value !== undefined) {
            a.value = value;
            args[a.name] = value;
          } else delete args[a.name];
          checkSecretName(a.name, 'ARG', node.line, this.warn);
        }
        this.scope = { ...this.scope, args };
        break;
      }
      case 'ENV': {
        const env = { ...this.scope.env };
        for (const p of instr.env) {
          env[p.key] = p.value;
          checkSecretName(p.key, 'ENV', node.line, this.warn);
        }
        this.scope = { ...this.scope, env };
        break;
      }
      case 'WORKDIR':
        if (!instr.path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(instr.path) && !this.seenWorkdir) {
          this.warn(
            'WorkdirRelativePath',
            `Relative workdir '${instr.path}' can have unexpected results if the base image changes`,
            node.line,
          );
        }
        this.seenWorkdir = true;
        this.scope = { ...this.scope, workdir: joinWorkdir(this.scope.workdir, instr.path) };
        break;
      case 'USER':
        this.scope = { ...this.scope, user: instr.group === undefined ? instr.user : `${instr.user}:${instr.group}` };
        break;
      case 'SHELL':
        this.scope = { ...this.scope, shell: instr.shell };
        break;
    }
  }

  /** An ARG's value in a stage: --build-arg, else its default, else the global ARG, else a predefined one. */
  argValue(name: string, def: string | undefined): string | undefined {
    if (Object.hasOwn(this.buildArgs, name)) {
      this.usedBuildArgs.add(name);
      return this.buildArgs[name];
    }
    if (def !== undefined) return def;
    if (this.globalNames.has(name)) return this.globalValues.get(name);
    if (name in this.predefined) return this.predefined[name];
    return undefined;
  }

  /** The warnings of one step that do not depend on the scope. */
  checkStep(node: DockerfileNode, instr: DockerfileInstruction): void {
    const line = node.line;
    if ((instr.keyword === 'ENV' || instr.keyword === 'LABEL') && node.legacy) {
      const k = instr.keyword;
      this.warn(
        'LegacyKeyValueFormat',
        `"${k} key=value" should be used instead of legacy "${k} key value" format`,
        line,
      );
    } else if ((instr.keyword === 'CMD' || instr.keyword === 'ENTRYPOINT') && instr.command.form === 'shell') {
      const message = `JSON arguments recommended for ${instr.keyword} to prevent unintended behavior related to OS signals`;
      this.warn('JSONArgsRecommended', message, line);
    } else if (instr.keyword === 'MAINTAINER') {
      this.warn('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', line);
    } else if (instr.keyword === 'EXPOSE') {
      for (const w of node.args) {
        if (w.includes(':')) {
          const message = `EXPOSE instruction should not define an IP address or host-port mapping, found '${w}'`;
          this.warn('ExposeInvalidFormat', message, line);
        }
        const proto = /\/([A-Za-z]+)$/.exec(w)?.[1];
        if (proto && proto !== proto.toLowerCase()) {
          this.warn('ExposeProtoCasing', `Defined protocol '${w}' in EXPOSE instruction should be lower case`, line);
        }
      }
    }
  }

  /** The result, once every node is read; `# check=error=true` turns the first warning into an error. */
  finish(): Dockerfile {
    this.finishStage();
    const checks = parseCheckDirective(this.ast.directives.check);
    if (checks.error && this.warnings.length > 0) {
      const w = this.warnings[0];
      throw new DockerfileError(
        'DOCKERFILE_CHECK_FAILED',
        `lint violation${this.warnings.length > 1 ? `s (${this.warnings.length})` : ''}: ${w.rule}: ${w.message}`,
        this.file,
        w.line,
        1,
        'fix the warnings or remove error=true from the # check= directive',
      );
    }
    const unusedBuildArgs = Object.keys(this.buildArgs).filter(
      (k) => !this.usedBuildArgs.has(k) && !(PROXY_BUILD_ARGS as readonly string[]).includes(k),
    );
    this.warnings.sort((a, b) => a.line - b.line);
    const out: Dockerfile = {
      directives: this.ast.directives,
      escapeToken: this.ast.escapeToken,
      globalArgs: this.globalArgs,
      stages: this.stages,
      warnings: this.warnings,
      unusedBuildArgs,
      ast: this.ast,
    };
    if (this.file !== undefined) out.file = this.file;
    return out;
  }
}

/** Parses a Dockerfile into stages of typed, expanded steps. Throws DockerfileError (a SourceError). */
export function parseDockerfile(source: string, options: ParseDockerfileOptions = {}): Dockerfile {
  const ast = parseDockerfileAst(source, { file: options.file });
  const p = new StageParser(ast, options);
  for (const line of ast.emptyContinuationLines) p.warn('NoEmptyContinuation', 'Empty continuation line', line);
  checkCasing(ast.nodes, p.warn);
  if (ast.nodes.length === 0) {
    throw p.fail('DOCKERFILE_EMPTY', 'the Dockerfile has no instructions', 1, 1, 'start it with FROM IMAGE');
  }
  for (let i = p.readGlobalArgs(); i < ast.nodes.length; i++) {
    const node = ast.nodes[i];
    if (node.keyword === 'FROM') p.startStage(node);
    else p.applyStep(node);
  }
  return p.finish();
}
