/**
 * hyprd: the HYPR daemon, in the foreground.
 *
 *   hyprd [--data-root DIR] [-H unix:///path/hyprd.sock] [--log-level info]
 */
import { HyprError } from '@hypr/core';
import { pino } from 'pino';
import { daemonVersion, startDaemon } from './daemon.js';
import { type HyprdFlags, USAGE, parseHyprdFlags } from './flags.js';
import { serviceFile, serviceTarget } from './service/index.js';
import { checkHost, dependencyWarnings, preflightError } from './system/preflight.js';

/** Exit status of a usage error, as the hypr CLI's. */
const USAGE_EXIT = 125;

function printError(e: unknown): void {
  process.stderr.write(`hyprd: ${HyprError.from(e).format()}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let flags: HyprdFlags;
  try {
    flags = parseHyprdFlags(argv);
  } catch (e) {
    printError(e);
    return USAGE_EXIT;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`hyprd version ${daemonVersion()}\n`);
    return 0;
  }
  if (flags.printService) {
    const target = serviceTarget({ kind: flags.printService, dataRoot: flags.dataRoot, host: flags.host });
    process.stdout.write(serviceFile(flags.printService, target));
    return 0;
  }
  const logger = pino({ level: flags.logLevel, base: { pid: process.pid } });
  // What the host lacks is said now, naming the package to install, not as an ENOENT at the first run.
  const checks = await checkHost();
  const missing = preflightError(checks);
  if (missing) {
    printError(missing);
    return 1;
  }
  for (const warning of dependencyWarnings(checks)) logger.warn({ warning }, 'host check');
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon({ dataRoot: flags.dataRoot, host: flags.host, logger });
  } catch (e) {
    printError(e);
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
