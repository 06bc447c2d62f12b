import { toConnectError } from '../errors.js';

// Every handler's errors leave as ConnectErrors carrying the HyprError code (HyprError.from at the boundary).
type AnyFn = (...args: never[]) => unknown;

function isAsyncGeneratorFunction(fn: AnyFn): boolean {
  return fn.constructor?.name === 'AsyncGeneratorFunction';
}

/** Wraps each method of a service implementation so thrown errors become ConnectErrors. */
export function withErrors<T extends object>(impl: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl) as [string, AnyFn][]) {
    if (typeof fn !== 'function') continue;
    if (isAsyncGeneratorFunction(fn)) {
      out[name] = async function* (...args: never[]) {
        try {
          yield* fn.apply(impl, args) as AsyncGenerator<unknown>;
        } catch (e) {
          throw toConnectError(e);
        }
      };
    } else {
      out[name] = async (...args: never[]) => {
        try {
          return await fn.apply(impl, args);
        } catch (e) {
          throw toConnectError(e);
        }
      };
    }
  }
  return out as T;
}
