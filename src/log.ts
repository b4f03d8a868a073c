import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The server's logger: JSON lines (one object per line, unique keys) for machines, or pino-pretty's
 * readable lines for a person at a terminal. `auto` picks pretty when stdout is a terminal.
 */
export type LogFormat = 'json' | 'pretty' | 'auto';

export function createLogger(level: string, format: LogFormat = 'auto'): Logger {
  const human = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!human) return pino({ level });
  // Synchronous, like pino's own stdout destination: nothing is lost when the process exits.
  return pino({ level }, pretty({ sync: true, colorize: process.stdout.isTTY === true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }));
}
