import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, unlink, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ObjectStoreError } from './errors.js';

export interface WrittenFile {
  file: string;
  size: number;
  md5: Buffer;
}

const CLEAN_MARKER = '.clean-shutdown';
const TEMP_SUFFIX = '.tmp';

/**
 * The bytes of the embedded object store: one file per object version or multipart part under
 * `<root>/<bucket>/<xx>/<file>` (two hex characters of fan-out keep directories small). A file
 * becomes visible only through a metadata row, so writes go temp file → fsync → rename → fsync the
 * directory, and the caller commits the row afterwards. A crash leaves at most a temp file or an
 * unreferenced file, which `recover()` removes at the next start.
 */
export class ObjectFiles {
  constructor(readonly root: string) {}

  pathOf(bucket: string, file: string): string {
    return join(this.root, bucket, file.slice(0, 2), file);
  }

  /**
   * Streams `source` into a new file. `check` runs after the bytes are durable and before the
   * file is renamed into place; throwing from it discards the file.
   */
  async write(
    bucket: string,
    source: AsyncIterable<Buffer | string>,
    maxBytes: number,
    check?: (written: { size: number; md5: Buffer }) => void | Promise<void>,
  ): Promise<WrittenFile> {
    const file = randomBytes(16).toString('hex');
    const dir = join(this.root, bucket, file.slice(0, 2));
    await mkdir(dir, { recursive: true });
    const temp = join(dir, file + TEMP_SUFFIX);
    const md5 = createHash('md5');
    let size = 0;
    const fh = await open(temp, 'wx');
    let renamed = false;
    try {
      try {
        for await (const chunk of source) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          size += buf.length;
          if (size > maxBytes) throw new ObjectStoreError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
          md5.update(buf);
          let off = 0;
          while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = md5.digest();
      await check?.({ size, md5: digest });
      await rename(temp, join(dir, file));
      renamed = true;
      await syncDir(dir);
      return { file, size, md5: digest };
    } catch (err) {
      await unlink(renamed ? join(dir, file) : temp).catch(() => undefined);
      throw err;
    }
  }

  /** Opens a file for reading; resolves undefined when it is gone (replaced or deleted meanwhile). */
  async openRead(bucket: string, file: string, range?: { start: number; end: number }): Promise<Readable | undefined> {
    let fh;
    try {
      fh = await open(this.pathOf(bucket, file), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return fh.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async remove(bucket: string, file: string | null | undefined): Promise<void> {
    if (!file) return;
    await unlink(this.pathOf(bucket, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async removeBucket(bucket: string): Promise<void> {
    await rm(join(this.root, bucket), { recursive: true, force: true });
  }

  /** Test mode's reset: every bucket's files, once their metadata rows are gone. */
  async removeAll(): Promise<void> {
    for (const name of await listDir(this.root)) {
      if (!name.startsWith('.')) await rm(join(this.root, name), { recursive: true, force: true });
    }
  }

  /**
   * Start-up recovery. After a clean shutdown there is nothing to do. Otherwise temp files are
   * deleted everywhere, and files no metadata row points at are deleted — but only inside buckets
   * the database knows, so a data dir paired with the wrong database is never emptied.
   */
  async recover(isKnownBucket: (bucket: string) => Promise<boolean>, referenced: (files: string[]) => Promise<Set<string>>): Promise<{ removed: number }> {
    await mkdir(this.root, { recursive: true });
    const marker = join(this.root, CLEAN_MARKER);
    const clean = await stat(marker).then(() => true, () => false);
    if (clean) {
      await unlink(marker);
      return { removed: 0 };
    }
    let removed = 0;
    for (const bucket of await listDir(this.root)) {
      if (bucket.startsWith('.')) continue;
      const known = await isKnownBucket(bucket);
      for (const sub of await listDir(join(this.root, bucket))) {
        const dir = join(this.root, bucket, sub);
        const names = await listDir(dir);
        const candidates: string[] = [];
        for (const name of names) {
          if (name.endsWith(TEMP_SUFFIX)) {
            await unlink(join(dir, name)).catch(() => undefined);
            removed++;
          } else if (known) candidates.push(name);
        }
        for (let i = 0; i < candidates.length; i += 500) {
          const batch = candidates.slice(i, i + 500);
          const keep = await referenced(batch);
          for (const name of batch) {
            if (keep.has(name)) continue;
            await unlink(join(dir, name)).catch(() => undefined);
            removed++;
          }
        }
      }
    }
    return { removed };
  }

  /** Written at shutdown, once no upload is in flight: the next start may skip recovery. */
  async markClean(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await writeFile(join(this.root, CLEAN_MARKER), '');
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
