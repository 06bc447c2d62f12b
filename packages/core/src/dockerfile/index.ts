// The Dockerfile frontend: text → AST → typed, expanded stages (see docs/dockerfile.md).
export { DockerfileError } from './errors.js';
export {
  type ExpandOptions,
  type ExpansionEnv,
  type ExpansionResult,
  expandWord,
} from './expand.js';
export {
  type DockerfileDirective,
  type DockerfileDirectives,
  type DockerfileHeredoc,
  type LexOptions,
  type LogicalLine,
  lexDockerfile,
} from './lexer.js';
export {
  DOCKERFILE_KEYWORDS,
  type DockerfileAst,
  type DockerfileFlag,
  type DockerfileKeyValue,
  type DockerfileKeyword,
  type DockerfileNode,
  parseDockerfileAst,
} from './parser.js';
export type {
  AddInstruction,
  ArgInstruction,
  CmdInstruction,
  CopyInstruction,
  DockerfileArgDeclaration,
  DockerfileCommand,
  DockerfileCopySource,
  DockerfileInstruction,
  DockerfileKeyValuePair,
  DockerfilePort,
  DockerfileRunMount,
  EntrypointInstruction,
  EnvInstruction,
  ExposeInstruction,
  FromInstruction,
  HealthcheckInstruction,
  LabelInstruction,
  MaintainerInstruction,
  OnbuildInstruction,
  RunInstruction,
  ShellInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from './instructions.js';
export { printDockerfile, printNode } from './printer.js';
export {
  type Dockerfile,
  type DockerfileStage,
  type DockerfileStageBase,
  type DockerfileStep,
  type DockerfileStepScope,
  type DockerfileWarning,
  PROXY_BUILD_ARGS,
  type ParseDockerfileOptions,
  parseDockerfile,
  platformArgs,
} from './stages.js';
export {
  type DockerignoreMatcher,
  type DockerignorePattern,
  createDockerignoreMatcher,
  parseDockerignore,
} from './dockerignore.js';
