/**
 * hyprd: the HYPR daemon, in the foreground.
 *
 *   hyprd [--data-root DIR] [-H unix:///path/hyprd.sock] [--log-level info]
 */
import { parseArgs } from 'node:util';
import { HyprError } from '@hypr/core';
import { pino } from 'pino';
import { daemonVersion, startDaemon } from './daemon.js';

const USAGE = `Usage: hyprd [OPTIONS]

Run the HYPR daemon in the foreground.

Options:
  --data-root DIR     state directory (default $HYPR_HOME, /var/lib/hypr as root)
  -H, --host SOCKET   socket to listen on, unix:///path (default $HYPR_HOST, /run/hypr/hyprd.sock as root)
  --log-level LEVEL   trace, debug, info, warn, error (default info)
  -v, --version       print the version
  -h, --help          show this help`;

export async function main(argv: string[]): Promise<number> {
  let values: { 'data-root'?: string; host?: string; 'log-level'?: string; version?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-root': { type: 'string' },
        host: { type: 'string', short: 'H' },
        'log-level': { type: 'string', short: 'l' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`hyprd: ${(e as Error).message}\n${USAGE.split('\n')[0]}\n`);
    return 125;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`hyprd version ${daemonVersion()}\n`);
    return 0;
  }
  const logger = pino({
    level: values['log-level'] ?? process.env.HYPR_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
  });
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon({ dataRoot: values['data-root'], host: values.host, logger });
  } catch (e) {
    const err = HyprError.from(e);
    process.stderr.write(`hyprd: ${err.format()}\n`);
    logger.flush();
    return 1;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'signal received');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      daemon.stop().then(
        () => resolve(0),
        (e) => {
          logger.error({ err: e }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
