/** Small file-system helpers shared across the library. */
import { stat } from 'node:fs/promises';

/** Whether something exists at `path` (file or folder). */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
