/** Small JSON files for the admin stores: written atomically (temp file + rename), mode 0600. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The parsed file, or undefined when it does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text);
}

export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * Serialises writes of one file: each `save()` writes the latest state after the previous write
 * finished, so a slow disk never reorders them.
 */
export class FileWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string | undefined,
    private readonly snapshot: () => unknown,
  ) {}

  save(): Promise<void> {
    const path = this.path;
    if (!path) return Promise.resolve();
    const next = this.chain.then(() => writeJsonFile(path, this.snapshot()));
    this.chain = next.catch(() => {});
    return next;
  }
}
