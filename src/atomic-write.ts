import { chmodSync, closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Writes a file so a reader (or a crash) never sees half of it: temp file
 * beside it, fsync, rename over the old one, fsync the folder. The mode is
 * set on the temp file before it takes the name, so a secret is never
 * readable by others, not even for a moment.
 */
export function writeFileAtomic(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, file);
  try {
    const dfd = openSync(dirname(file), "r");
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    /* some file systems refuse fsync on folders; the rename is still atomic */
  }
}
