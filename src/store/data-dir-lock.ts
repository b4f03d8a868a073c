import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One server per SQLite data dir (issue 14): `fleetjobs.lock` names the process that holds it.
 * Two servers on one SQLite file would each think they are the only writer (the engine, the
 * object files' recovery), so a second one refuses to start and says which process holds it. A
 * lock left by a process that no longer exists (killed) is taken over.
 */
export class DataDirLockedError extends Error {
  /** An operational failure: the CLI prints the message alone. */
  readonly code = 'ELOCKED';
}

export interface DataDirLock {
  release(): void;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'fleetjobs.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      closeSync(fd);
      return {
        release() {
          try {
            if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: number }).pid === process.pid) unlinkSync(file);
          } catch {
            /* gone already */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw err;
    }
    let holder: number | undefined;
    try {
      holder = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: number }).pid;
    } catch {
      holder = undefined; // being written, or not ours: looked at again below
    }
    if (holder !== undefined && alive(holder)) {
      throw new DataDirLockedError(
        `the data dir ${dataDir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}: stop that fleetjobs, or give this one another --data-dir (FLEETJOBS_DATA_DIR)`,
      );
    }
    // Its holder is gone: take it over.
    try {
      unlinkSync(file);
    } catch {
      /* another starter took it over first: the next attempt tells */
    }
  }
}
