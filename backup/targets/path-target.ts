import { constants, createReadStream, fstatSync, readlinkSync, realpathSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { BackupErrors } from '../errors.js';
import { assertSafeRelative, sortSets, type BackupFileInfo, type BackupSetRef, type BackupTarget, type ReadOptions } from './target.js';

/** Why an opened descriptor must not be read: not a regular file (FIFO, device, directory), or outside `setDir`; undefined when fine. */
function openedOutside(fd: number, setDir: string): string | undefined {
  if (!fstatSync(fd).isFile()) return 'not a regular file, not read';
  let opened: string;
  try {
    opened = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined; // No /proc: the final-component O_NOFOLLOW still holds.
  }
  const root = realpathSync(setDir);
  return opened.startsWith(root + sep) ? undefined : 'outside its set (through a symbolic link), not read';
}

/** A local directory or a mounted network share (NFS, CIFS). */
export class PathTarget implements BackupTarget {
  readonly description: string;
  readonly rangeReads = true;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.description = root;
  }

  async listSets(): Promise<BackupSetRef[]> {
    try {
      const entries = await readdir(this.#root, { withFileTypes: true });
      return sortSets(entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name));
    } catch (error) {
      throw BackupErrors.target(this.description, (error as Error).message);
    }
  }

  async listFiles(set: string): Promise<BackupFileInfo[]> {
    assertSafeRelative(set);
    const files: BackupFileInfo[] = [];
    const walk = async (relative: string): Promise<void> => {
      const entries = await readdir(join(this.#root, set, relative), { withFileTypes: true });
      for (const entry of entries) {
        const path = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) {
          const info = await stat(join(this.#root, set, path));
          files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
        }
      }
    };
    try {
      await walk('');
    } catch (error) {
      throw BackupErrors.target(`${this.description}/${set}`, (error as Error).message);
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  openRead(set: string, path: string, options: ReadOptions = {}): Readable {
    assertSafeRelative(set);
    assertSafeRelative(path);
    const where = `${this.description}/${set}/${path}`;
    // Whoever writes the set chooses what a name is: no symlink as the last step, and a FIFO opens without waiting for a writer.
    const stream = createReadStream(join(this.#root, set, path), {
      // fs.open takes numeric flags; @types/node types this option as a string only.
      flags: (constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK) as unknown as string,
      highWaterMark: options.highWaterMark ?? 4 << 20,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.start ? { start: options.start } : {}),
    });
    // Checked on the open descriptor, before the first read: a regular file, inside the set (not through a symlinked directory).
    stream.once('open', (fd: number) => {
      const refused = openedOutside(fd, join(this.#root, set));
      if (refused) stream.destroy(BackupErrors.target(where, refused));
    });
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ELOOP') stream.destroy(BackupErrors.target(where, 'a symbolic link, not read'));
    });
    return stream;
  }

  async readSmallFile(set: string, path: string): Promise<Buffer | undefined> {
    assertSafeRelative(set);
    assertSafeRelative(path);
    try {
      return await readFile(join(this.#root, set, path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw BackupErrors.target(`${this.description}/${set}/${path}`, (error as Error).message);
    }
  }

  async close(): Promise<void> {}
}
