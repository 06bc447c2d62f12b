import { Code, ConnectError } from '@connectrpc/connect';
import { HyprError } from '@hypr/core';
import { expect, test } from 'vitest';
import { ERROR_CODE_HEADER, ERROR_HINT_HEADER, connectCodeOf, toConnectError } from './errors.js';

test.each([
  ['CONTAINER_NOT_FOUND', Code.NotFound],
  ['IMAGE_NOT_FOUND', Code.NotFound],
  ['CONTAINER_NAME_IN_USE', Code.AlreadyExists],
  ['INVALID_SIGNAL', Code.InvalidArgument],
  ['AMBIGUOUS_ID', Code.InvalidArgument],
  ['CONTAINER_NOT_RUNNING', Code.FailedPrecondition],
  ['CONTAINER_IS_RUNNING', Code.FailedPrecondition],
  ['CONTAINER_IS_PAUSED', Code.FailedPrecondition],
  ['CONTAINER_NOT_PAUSED', Code.FailedPrecondition],
  ['CONTAINER_PAUSE_NOT_SUPPORTED', Code.FailedPrecondition],
  ['EXEC_NOT_SUPPORTED', Code.FailedPrecondition],
  ['REGISTRY_AUTH_FAILED', Code.Unauthenticated],
  ['SOMETHING_ELSE', Code.Unknown],
])('%s is answered as Connect code %i', (code, connect) => expect(connectCodeOf(code)).toBe(connect));

test('the HyprError code and hint travel in the error metadata', () => {
  const e = toConnectError(new HyprError('IMAGE_NOT_FOUND', 'no such image: x', 'pull it'));
  expect(e).toBeInstanceOf(ConnectError);
  expect(e.code).toBe(Code.NotFound);
  expect(e.rawMessage).toBe('no such image: x');
  expect(e.metadata.get(ERROR_CODE_HEADER)).toBe('IMAGE_NOT_FOUND');
  expect(decodeURIComponent(e.metadata.get(ERROR_HINT_HEADER) ?? '')).toBe('pull it');
  expect(toConnectError(new Error('boom')).metadata.get(ERROR_CODE_HEADER)).toBe('INTERNAL');
});
