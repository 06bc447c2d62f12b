import { Code, ConnectError } from '@connectrpc/connect';
import { HyprError } from '@hypr/core';

/** Response headers carrying the HyprError's stable code and hint to the CLI. */
export const ERROR_CODE_HEADER = 'hypr-error-code';
export const ERROR_HINT_HEADER = 'hypr-error-hint';

/** The Connect code for a HyprError code: by its suffix, as the codes are named for what went wrong. */
export function connectCodeOf(code: string): Code {
  if (code.endsWith('_NOT_FOUND') || code === 'NO_SUCH_CONTAINER' || code === 'NO_SUCH_IMAGE') return Code.NotFound;
  if (code.endsWith('_IN_USE') || code.endsWith('_EXISTS') || code.endsWith('_CONFLICT')) return Code.AlreadyExists;
  if (code.startsWith('INVALID_') || code.endsWith('_INVALID') || code === 'AMBIGUOUS_ID') return Code.InvalidArgument;
  if (
    code.endsWith('_NOT_RUNNING') ||
    code.endsWith('_IS_RUNNING') ||
    code.endsWith('_NOT_PAUSED') ||
    code.endsWith('_IS_PAUSED') ||
    code.endsWith('_NOT_SUPPORTED') ||
    code.endsWith('_PRECONDITION')
  )
    return Code.FailedPrecondition;
  if (code.startsWith('REGISTRY_AUTH') || code.endsWith('_UNAUTHORIZED')) return Code.Unauthenticated;
  if (code === 'ABORTED' || code === 'VM_ABORTED') return Code.Aborted;
  return Code.Unknown;
}

/** Normalises anything thrown in a handler into a ConnectError that keeps the HyprError code and hint. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const err = HyprError.from(e);
  const metadata = new Headers({ [ERROR_CODE_HEADER]: err.code });
  if (err.hint) metadata.set(ERROR_HINT_HEADER, encodeURIComponent(err.hint));
  return new ConnectError(err.message, connectCodeOf(err.code), metadata, undefined, err);
}
