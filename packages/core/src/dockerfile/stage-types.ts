/** What parseDockerfile returns: stages of typed steps, each with the scope it runs in, and warnings. */
import type { DockerfileArgDeclaration, DockerfileInstruction, FromInstruction } from './instruction-types.js';
import type { DockerfileDirectives } from './lexer.js';
import type { DockerfileAst } from './parser.js';

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
