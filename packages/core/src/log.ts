import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** The default logger of every library call: writes nothing. Callers pass their own. */
export const silentLogger: Logger = pino({ level: 'silent' });
