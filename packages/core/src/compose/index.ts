// @hypr/core/compose: the Compose Specification loaded as docker compose does, and converted to the
// stack HYPR runs. See docs/compose.md for the phases of the load.
export {
  loadCompose,
  findComposeFiles,
  normalizeProjectName,
  findDependencyCycle,
  COMPOSE_FILE_NAMES,
  COMPOSE_OVERRIDE_FILE_NAMES,
} from './load.js';
export type { LoadComposeOptions } from './load.js';
export { ComposeValidationError } from './errors.js';
export type { ComposeProblem } from './errors.js';
export { printCompose, toComposeDocument } from './print.js';
export { convertToStack, computeStartOrder, ComposeUnsupportedError } from './convert.js';
export type {
  StackSpec,
  StackService,
  StackBuild,
  StackPort,
  StackMount,
  StackFile,
  StackNetworkAttachment,
  StackHealthcheck,
  StackRestartPolicy,
  StackDependency,
  StackResources,
  StackNetwork,
  StackVolume,
  StackNotice,
} from './convert.js';
export { parseDotenv as parseComposeDotenv, DotenvError as ComposeDotenvError } from './dotenv.js';
export {
  interpolateString as interpolateComposeString,
  InterpolationError as ComposeInterpolationError,
} from './interpolate.js';
export type { VariableLookup as ComposeVariableLookup } from './interpolate.js';
export { parseShortPort as parseComposePort, PortSyntaxError as ComposePortSyntaxError } from './ports.js';
export { parseShortVolume as parseComposeVolume, VolumeSyntaxError as ComposeVolumeSyntaxError } from './volumes.js';
export { parseDurationNs as parseComposeDurationNs, parseBytes as parseComposeBytes } from './units.js';
export type * from './types.js';
