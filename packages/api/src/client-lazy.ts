// A Connect client whose service descriptor is imported at its first call. Decoding a service's
// descriptor (and every message of its file) is most of what loading the API costs: a CLI command
// that talks to one service should not pay for six (docs/benchmarks.md, "CLI start-up").
import type { DescService } from '@bufbuild/protobuf';
import { type Client, type Transport, createClient } from '@connectrpc/connect';

/**
 * `Client<S>` for the service `load` resolves to. A method called before the descriptor is there returns
 * what stands for both kinds of result: awaited, the answer of a unary or client-streaming call;
 * iterated, the messages of a server-streaming or bidi call (each call is made once the descriptor is in).
 */
export function createLazyClient<S extends DescService>(load: () => Promise<S>, transport: Transport): Client<S> {
  let client: Promise<Record<string, (...args: unknown[]) => unknown>> | undefined;
  const connect = () => {
    client ??= load().then((service) => createClient(service, transport) as never);
    return client;
  };
  return new Proxy({} as Client<S>, {
    get(_, name) {
      // not thenable itself, and no other symbol or inherited name: only the service's methods
      if (typeof name !== 'string' || name === 'then' || name in Object.prototype) return undefined;
      return (...args: unknown[]) => deferredResult(connect().then((c) => c[name](...args)));
    },
  });
}

/** A promise-like and async-iterable stand-in for the result of a call not made yet. */
function deferredResult(result: Promise<unknown>) {
  // A streaming call is iterated, never awaited: its failure to start reaches the iterator, not an
  // unhandled rejection.
  result.catch(() => {});
  let iterator: Promise<AsyncIterator<unknown>> | undefined;
  const it = () => {
    iterator ??= result.then((r) => (r as AsyncIterable<unknown>)[Symbol.asyncIterator]());
    return iterator;
  };
  return {
    // biome-ignore lint/suspicious/noThenProperty: this object stands for the promise a unary call returns
    then: (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => result.then(ok, fail),
    catch: (fail: (e: unknown) => unknown) => result.catch(fail),
    finally: (f: () => void) => result.finally(f),
    [Symbol.asyncIterator]: () => ({
      next: async () => (await it()).next(),
      return: async (v?: unknown) => {
        const i = await it();
        return i.return ? i.return(v) : { done: true, value: v };
      },
      throw: async (e?: unknown) => {
        const i = await it();
        if (i.throw) return i.throw(e);
        throw e;
      },
    }),
  };
}
