/**
 * One error hierarchy for all of HYPR. Every error has a stable SCREAMING_SNAKE code, a message
 * saying what is wrong, an optional hint saying what to do, and the cause. Subclasses add *where*:
 * SourceError a file:line:column, ConfigKeyError a file and key path.
 */

/**
 * Every code a HyprError may carry. Add a new code on its own line under its area (sorted within it);
 * the daemon maps codes to Connect codes by suffix (`_NOT_FOUND`, `_IN_USE`, `_INVALID` …), see daemon/src/errors.ts.
 */
export const ERROR_CODES = [
  // General
  'ABORTED',
  'AMBIGUOUS_ID',
  'CONFIG_INVALID',
  'INTERNAL',
  'INVALID_ARGUMENT',
  'INVALID_ARGUMENT_CONFLICT',
  'INVALID_FILTER',
  'INVALID_MOUNT',
  'INVALID_MOUNT_DUPLICATE',
  'INVALID_NAME',
  'INVALID_RESTART_POLICY',
  'INVALID_SIGNAL',
  'INVALID_VOLUME_NAME',
  'PROCESS_FAILED',
  // CLI (hypr's own checks, before or after the daemon answers)
  'CLI_ARGUMENT_MISSING',
  'CLI_FAILED',
  'CLI_FILE_NOT_FOUND',
  'CLI_FILE_NOT_WRITABLE',
  'CLI_FLAG_CONFLICT',
  'CLI_FLAG_INVALID',
  'CLI_NOT_A_TTY',
  'CLI_UNKNOWN_COMMAND',
  'TEMPLATE_EXECUTION',
  'TEMPLATE_SYNTAX',
  // Daemon
  'DAEMON_ALREADY_RUNNING',
  'DAEMON_CONNECTION_LOST',
  'DAEMON_FLAG_INVALID',
  'DAEMON_FLAG_UNKNOWN',
  'DAEMON_LOCK_FAILED',
  'DAEMON_NOT_RUNNING',
  'DAEMON_PERMISSION_DENIED',
  'DAEMON_SOCKET_IN_USE',
  'EVENTS_NOT_SUPPORTED',
  'STATE_DRIVER_MISSING',
  'STATE_MIGRATIONS_MISSING',
  'STATE_OPEN_FAILED',
  'STATE_TOO_NEW',
  // Containers: lifecycle, attach, exec
  'ATTACH_STDIN_PRECONDITION',
  'CONTAINER_COPY_FAILED',
  'CONTAINER_IS_PAUSED',
  'CONTAINER_IS_RUNNING',
  'CONTAINER_LAYER_UNREADABLE',
  'CONTAINER_NAME_IN_USE',
  'CONTAINER_NOT_FOUND',
  'CONTAINER_NOT_PAUSED',
  'CONTAINER_NOT_RUNNING',
  'CONTAINER_PAUSE_NOT_SUPPORTED',
  'CONTAINER_PATH_NOT_FOUND',
  'EXEC_FAILED',
  'EXEC_NOT_SUPPORTED',
  'EXEC_TOO_LARGE',
  'EXEC_TOO_MANY',
  'EXEC_UNAVAILABLE',
  'STDIN_UNAVAILABLE',
  'WRITABLE_DISK_NOT_FOUND',
  // Dockerfile
  'DOCKERFILE_ARGUMENT_COUNT',
  'DOCKERFILE_BAD_FLAG',
  'DOCKERFILE_BAD_MOUNT',
  'DOCKERFILE_BAD_PORT',
  'DOCKERFILE_BAD_SUBSTITUTION',
  'DOCKERFILE_CHECK_FAILED',
  'DOCKERFILE_CIRCULAR_DEPENDENCY',
  'DOCKERFILE_DUPLICATE_DIRECTIVE',
  'DOCKERFILE_EMPTY',
  'DOCKERFILE_INVALID_ESCAPE',
  'DOCKERFILE_INVALID_REFERENCE',
  'DOCKERFILE_INVALID_STAGE_NAME',
  'DOCKERFILE_JSON_REQUIRED',
  'DOCKERFILE_MISSING_ARGUMENT',
  'DOCKERFILE_NO_FROM',
  'DOCKERFILE_ONBUILD_TRIGGER',
  'DOCKERFILE_REQUIRED_VARIABLE',
  'DOCKERFILE_SYNTAX',
  'DOCKERFILE_UNKNOWN_FLAG',
  'DOCKERFILE_UNKNOWN_INSTRUCTION',
  'DOCKERFILE_UNTERMINATED_HEREDOC',
  'DOCKERFILE_UNTERMINATED_QUOTE',
  // Builder
  'BUILD_ADD_ARCHIVE_UNSUPPORTED',
  'BUILD_ADD_CHECKSUM_MISMATCH',
  'BUILD_ADD_DOWNLOAD_FAILED',
  'BUILD_CACHE_FILTER_INVALID',
  'BUILD_CHMOD_UNSUPPORTED',
  'BUILD_CHOWN_INVALID',
  'BUILD_CONTEXT_INVALID',
  'BUILD_COPY_DESTINATION_NOT_DIR',
  'BUILD_COPY_PARENTS_UNSUPPORTED',
  'BUILD_COPY_SOURCE_NOT_FOUND',
  'BUILD_DOCKERFILE_NOT_FOUND',
  'BUILD_IMAGE_REFERENCE_INVALID',
  'BUILD_INTERNAL',
  'BUILD_LAYER_FAILED',
  'BUILD_MOUNT_UNSUPPORTED',
  'BUILD_NETWORK_UNSUPPORTED',
  'BUILD_NATIVE_UNAVAILABLE',
  'BUILD_OPTIONS_INVALID',
  'BUILD_PLATFORM_UNSUPPORTED',
  'BUILD_REMOTE_SOURCE_UNSUPPORTED',
  'BUILD_SECRET_INVALID',
  'BUILD_SECRET_MISSING',
  'BUILD_STEP_EMPTY',
  'BUILD_STEP_FAILED',
  'BUILD_STEP_INCOMPLETE',
  'BUILD_SYMLINK_LOOP',
  'BUILD_TARGET_NOT_FOUND',
  // Compose
  'COMPOSE_COMMAND_INVALID',
  'COMPOSE_DEPENDENCY_FAILED',
  'COMPOSE_DOTENV_INVALID',
  'COMPOSE_FILE_NOT_FOUND',
  'COMPOSE_FILE_UNREADABLE',
  'COMPOSE_IMAGE_NOT_BUILT',
  'COMPOSE_INTERPOLATION_INVALID',
  'COMPOSE_INVALID',
  'COMPOSE_NETWORK_NOT_FOUND',
  'COMPOSE_NO_HEALTHCHECK',
  'COMPOSE_NO_SUCH_PROJECT',
  'COMPOSE_NO_SUCH_SERVICE',
  'COMPOSE_PORT_INVALID',
  'COMPOSE_SERVICE_FAILED',
  'COMPOSE_UNSUPPORTED',
  'COMPOSE_VARIABLE_MISSING',
  'COMPOSE_VOLUME_INVALID',
  'COMPOSE_VOLUME_NOT_FOUND',
  'COMPOSE_WAIT_FAILED',
  'COMPOSE_WAIT_TIMEOUT',
  // Images and registries
  'IMAGE_AMBIGUOUS',
  'IMAGE_ARCHIVE_INVALID',
  'IMAGE_BLOB_DIGEST_MISMATCH',
  'IMAGE_BLOB_NOT_FOUND',
  'IMAGE_BLOB_SIZE_MISMATCH',
  'IMAGE_CONFIG_INVALID',
  'IMAGE_DIGEST_INVALID',
  'IMAGE_HAS_TAGS',
  'IMAGE_IN_USE',
  'IMAGE_LAYER_INVALID',
  'IMAGE_LAYER_TOO_LARGE',
  'IMAGE_LAYER_UNSAFE',
  'IMAGE_MANIFEST_INVALID',
  'IMAGE_MANIFEST_UNSUPPORTED',
  'IMAGE_NOT_FOUND',
  'IMAGE_NO_COMMAND',
  'IMAGE_PLATFORM_INVALID',
  'IMAGE_PLATFORM_NOT_FOUND',
  'IMAGE_REF_INVALID',
  'IMAGE_TOO_LARGE',
  'REGISTRY_AUTH_FAILED',
  'REGISTRY_AUTH_FILE_INVALID',
  'REGISTRY_AUTH_UNSUPPORTED',
  'REGISTRY_BLOB_INTERRUPTED',
  'REGISTRY_BLOB_SHORT',
  'REGISTRY_DENIED',
  'REGISTRY_ERROR',
  'REGISTRY_LOGIN_FAILED',
  'REGISTRY_UNAUTHORIZED',
  'REGISTRY_UNREACHABLE',
  // Networks, DNS and ports
  'DNS_ADDRESS_INVALID',
  'DNS_LISTEN_FAILED',
  'DNS_MESSAGE_INVALID',
  'DNS_NAME_INVALID',
  'DNS_PORT_IN_USE',
  'NETWORK_ADDRESS_INVALID',
  'NETWORK_ADDRESS_IN_USE',
  'NETWORK_ADDRESS_OUT_OF_RANGE',
  'NETWORK_ADDRESS_RESERVED',
  'NETWORK_ALIAS_INVALID',
  'NETWORK_ALREADY_CONNECTED',
  'NETWORK_AMBIGUOUS',
  'NETWORK_BRIDGE_FAILED',
  'NETWORK_BRIDGE_INVALID',
  'NETWORK_BRIDGE_IN_USE',
  'NETWORK_CONNECT_RUNNING_NOT_SUPPORTED',
  'NETWORK_CONTAINER_UNKNOWN',
  'NETWORK_DEVICE_CONFLICT',
  'NETWORK_DISCONNECT_RUNNING_NOT_SUPPORTED',
  'NETWORK_DRIVER_UNSUPPORTED',
  'NETWORK_FORWARDING_FAILED',
  'NETWORK_GATEWAY_OUTSIDE_SUBNET',
  'NETWORK_IN_USE',
  'NETWORK_IPV6_UNSUPPORTED',
  'NETWORK_MODE_UNSUPPORTED',
  'NETWORK_NAME_INVALID',
  'NETWORK_NAME_IN_USE',
  'NETWORK_NFT_FAILED',
  'NETWORK_NOT_CONNECTED',
  'NETWORK_NOT_FOUND',
  'NETWORK_POOL_EXHAUSTED',
  'NETWORK_POOL_INVALID',
  'NETWORK_PREDEFINED',
  'NETWORK_RANGE_OUTSIDE_SUBNET',
  'NETWORK_SUBNET_EXHAUSTED',
  'NETWORK_SUBNET_INVALID',
  'NETWORK_SUBNET_OVERLAP',
  'NETWORK_SUBNET_TOO_SMALL',
  'NETWORK_TAP_FAILED',
  'NETWORK_TAP_INVALID',
  'NETWORK_UNAVAILABLE',
  'PORT_BIND_DENIED',
  'PORT_BIND_FAILED',
  'PORT_HOST_IP_INVALID',
  'PORT_IN_USE',
  'PORT_SPEC_INVALID',
  // Volumes and mounts
  'MOUNT_INVALID',
  'MOUNT_NOT_SUPPORTED',
  'MOUNT_SOURCE_NOT_FOUND',
  'VOLUMES_NOT_SUPPORTED',
  'VOLUME_DRIVER_NOT_SUPPORTED',
  'VOLUME_IN_USE',
  'VOLUME_NOT_FOUND',
  // Guest, VMs and shims
  'GUEST_CORRUPT',
  'GUEST_JOB_INVALID',
  'GUEST_KERNEL_MISSING',
  'GUEST_KESTREL_MISSING',
  'GUEST_PACKAGE_MISSING',
  'HOST_DEPENDENCY_MISSING',
  'ROOTFS_LAYER_DISK_FAILED',
  'ROOTFS_NOT_FOUND',
  'SHIM_FAILED',
  'SHIM_MISSING',
  'SHIM_TIMEOUT',
  'VIRTIOFSD_FAILED',
  'VMM_NOT_INSTALLED',
  'VMM_UNKNOWN',
  'VMM_UNUSABLE',
  'VM_ABORTED',
  'VM_HYPERVISOR_FAILED',
  'VM_KERNEL_PANIC',
  'VM_NO_EXIT_STATUS',
  'VM_TIMEOUT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** True when `code` is one of ERROR_CODES (for codes that arrive as text, e.g. from the daemon). */
export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

export class HyprError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Normalises anything thrown into a HyprError (kept as is when it already is one). */
  static from(e: unknown, code: ErrorCode = 'INTERNAL'): HyprError {
    if (e instanceof HyprError) return e;
    if (e instanceof Error) return new HyprError(code, e.message, undefined, { cause: e });
    return new HyprError(code, String(e));
  }

  /** The message as printed for users: the message, then the hint on its own line. */
  format(): string {
    return this.hint ? `${this.message}\nhint: ${this.hint}` : this.message;
  }
}

/** An error located in a source file (Dockerfile, .dockerignore, kestrel job …). Lines and columns are 1-based. */
export class SourceError extends HyprError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly file: string | undefined,
    readonly line: number,
    readonly column = 1,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }

  get location(): string {
    return `${this.file ?? '<input>'}:${this.line}:${this.column}`;
  }

  override format(): string {
    return `${this.location}: ${super.format()}`;
  }
}

/** An error located at a key path of a configuration file (compose.yaml, daemon.json …). */
export class ConfigKeyError extends HyprError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly file: string | undefined,
    readonly path: string,
    readonly line?: number,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }

  override format(): string {
    const where = `${this.file ?? '<input>'}${this.line ? `:${this.line}` : ''} ${this.path}`;
    return `${where}: ${super.format()}`;
  }
}

/** Levenshtein distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest candidate to `word` (case-insensitive) within a small distance, if any. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(w.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
