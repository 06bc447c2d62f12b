/**
 * The typed instructions of a parsed Dockerfile (phase 4's output): one interface per keyword, words
 * already expanded where BuildKit expands them.
 */
import type { DockerfileHeredoc } from './lexer.js';
import type { DockerfileKeyword } from './parser.js';

/** A command in exec form (argv, no shell) or shell form (a script for the SHELL). */
export type DockerfileCommand = { form: 'exec'; argv: string[] } | { form: 'shell'; script: string };

export interface InstructionBase {
  keyword: DockerfileKeyword;
  /** 1-based line of the first physical line, its last line and the keyword's column. */
  line: number;
  endLine: number;
  column: number;
  /** The logical line as written. */
  original: string;
}

export interface DockerfileRunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target?: string;
  source?: string;
  /** Stage name/index or image the mount reads from (bind, cache). */
  from?: string;
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  required?: boolean;
  readOnly: boolean;
  sizeBytes?: number;
  env?: string;
}

export interface FromInstruction extends InstructionBase {
  keyword: 'FROM';
  image: string;
  stageName?: string;
  platform?: string;
}
export interface RunInstruction extends InstructionBase {
  keyword: 'RUN';
  command: DockerfileCommand;
  mounts: DockerfileRunMount[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  heredocs: DockerfileHeredoc[];
}
export interface CmdInstruction extends InstructionBase {
  keyword: 'CMD';
  command: DockerfileCommand;
}
export interface EntrypointInstruction extends InstructionBase {
  keyword: 'ENTRYPOINT';
  command: DockerfileCommand;
}
export interface ShellInstruction extends InstructionBase {
  keyword: 'SHELL';
  shell: string[];
}
/** A COPY/ADD source: a context (or --from) path, or an inline heredoc file. */
export type DockerfileCopySource = { kind: 'path'; path: string } | { kind: 'heredoc'; name: string; content: string };
export interface CopyLike extends InstructionBase {
  sources: DockerfileCopySource[];
  destination: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
}
export interface CopyInstruction extends CopyLike {
  keyword: 'COPY';
  /** Stage name (lower-case), stage index or image reference. */
  from?: string;
  parents: boolean;
}
export interface AddInstruction extends CopyLike {
  keyword: 'ADD';
  checksum?: string;
  keepGitDir: boolean;
  unpack?: boolean;
}
export interface DockerfileKeyValuePair {
  key: string;
  value: string;
}
export interface EnvInstruction extends InstructionBase {
  keyword: 'ENV';
  env: DockerfileKeyValuePair[];
}
export interface LabelInstruction extends InstructionBase {
  keyword: 'LABEL';
  labels: DockerfileKeyValuePair[];
}
export interface MaintainerInstruction extends InstructionBase {
  keyword: 'MAINTAINER';
  maintainer: string;
}
export interface DockerfileArgDeclaration {
  name: string;
  /** The default after expansion, when one is written. */
  defaultValue?: string;
  /** The value in effect: --build-arg, else the default, else the global ARG; undefined when unset. */
  value?: string;
}
export interface ArgInstruction extends InstructionBase {
  keyword: 'ARG';
  args: DockerfileArgDeclaration[];
}
export interface DockerfilePort {
  port: number;
  endPort?: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}
export interface ExposeInstruction extends InstructionBase {
  keyword: 'EXPOSE';
  ports: DockerfilePort[];
}
export interface VolumeInstruction extends InstructionBase {
  keyword: 'VOLUME';
  paths: string[];
}
export interface UserInstruction extends InstructionBase {
  keyword: 'USER';
  user: string;
  group?: string;
}
export interface WorkdirInstruction extends InstructionBase {
  keyword: 'WORKDIR';
  /** As written after expansion. */
  path: string;
}
export interface StopsignalInstruction extends InstructionBase {
  keyword: 'STOPSIGNAL';
  signal: string;
}
export interface HealthcheckInstruction extends InstructionBase {
  keyword: 'HEALTHCHECK';
  /** undefined for HEALTHCHECK NONE (disables the base image's check). */
  command?: DockerfileCommand;
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
  retries?: number;
}
export interface OnbuildInstruction extends InstructionBase {
  keyword: 'ONBUILD';
  /** The trigger as written, run by builds FROM this image. */
  trigger: string;
  triggerKeyword: DockerfileKeyword;
}

export type DockerfileInstruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | CopyInstruction
  | AddInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ArgInstruction
  | ExposeInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

/** Expands one word in the scope of the instruction (see stages.ts). */
export type WordExpander = (word: string, options?: { processQuotes?: boolean }) => string;
