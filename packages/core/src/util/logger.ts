import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

/** The structured (JSON lines) logger every module and plugin gets. */
export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'child' | 'level'>;

/** Log levels a config may name. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * Creates the process logger: JSON lines on stdout (or `destination`), secrets redacted by key.
 */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'cacheforge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['*.authorization', '*.password', '*.token', '*.secretKey', 'headers.authorization'], censor: '[secret]' },
  }, (destination ?? pino.destination({ dest: 1, sync: false })) as pino.DestinationStream);
}
