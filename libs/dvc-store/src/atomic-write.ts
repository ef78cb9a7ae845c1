import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';

/** Marks temp files of atomic writes (a crashed run leaves them; materialize removes them as strays). */
const TMP_MARKER = '.dvc-store-tmp-';

/** Write via `fill(tmp)` next to `dest`, fsync, then rename over it: readers never see a partial file. */
export async function writeAtomic(dest: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}${TMP_MARKER}${randomBytes(6).toString('hex')}`);
  try {
    await fill(tmp);
    // Read-only is enough for fsync, and works when the copied source was read-only.
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
