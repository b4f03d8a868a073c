import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The server's logger: JSON lines (one object per line, unique keys) for machines, or pino-pretty's
 * readable lines for a person at a terminal. `auto` picks pretty when stdout is a terminal.
 */
export type LogFormat = 'json' | 'pretty' | 'auto';

export function createLogger(level: string, format: LogFormat = 'auto'): Logger {
  const human = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (human) return pino({ level }, pretty({ sync: true, colorize: process.stdout.isTTY === true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }));
  // Buffered writes: a busy server writes its lines 8 KiB at a time, not one write per request
  // (a write per line cost a fifth of bench:api's throughput), and a quiet one within 200 ms.
  // What is buffered at exit is flushed then.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 8192 });
  setInterval(() => destination.flush(), 200).unref();
  process.once('exit', () => destination.flushSync());
  return pino({ level }, destination);
}
