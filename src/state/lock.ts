import { readFileSync, writeFileSync, unlinkSync, openSync, closeSync, fsyncSync } from "node:fs";
import { hostname } from "node:os";
import { PilotError } from "../errors.js";

/** Who holds a stack's lock: written into the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

/** True if a process with this pid exists on this host. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function readLockHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LockHolder;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // An unreadable lock (torn write) still means "someone may hold it".
    return { pid: -1, host: "unknown", startedAt: "unknown", command: "unknown" };
  }
}

/** A holder on this host whose process has exited cannot be running any more. */
export function isStale(holder: LockHolder): boolean {
  return holder.host === hostname() && holder.pid > 0 && !isProcessAlive(holder.pid);
}

function describe(holder: LockHolder): string {
  return `pid ${holder.pid} on ${holder.host} (pilot ${holder.command}, since ${holder.startedAt})`;
}

/** A held lock; release() is safe to call twice. */
export interface Lock {
  holder: LockHolder;
  reclaimed?: LockHolder;
  release(): void;
}

/**
 * Takes the lock with O_EXCL so two processes can never both hold it. A lock
 * left by a process that died on this host (kill -9, power loss) is reclaimed,
 * since a crashed up-server must be re-runnable; any other holder fails at once.
 */
export function acquireLock(file: string, stack: string, command: string): Lock {
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
  let reclaimed: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeFileSync(fd, JSON.stringify(holder) + "\n");
      fsyncSync(fd);
      closeSync(fd);
      let released = false;
      return {
        holder,
        reclaimed,
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } catch {
            /* already removed (pilot unlock) */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const current = readLockHolder(file);
      if (current && isStale(current) && attempt === 0) {
        reclaimed = current;
        try {
          unlinkSync(file);
        } catch {
          /* another process reclaimed it first; the retry will tell */
        }
        continue;
      }
      throw new PilotError(`Stack "${stack}" is locked by ${current ? describe(current) : "another process"}.`, {
        hint: `Wait for it to finish; if that process is gone, run \`pilot unlock --name ${stack}\`.`,
      });
    }
  }
  throw new PilotError(`Stack "${stack}" is locked by another process.`, {
    hint: `Run \`pilot unlock --name ${stack}\` if no other pilot is running.`,
  });
}

/** `pilot unlock`: removes the lock only when its holder is provably gone (or --force). */
export function forceUnlock(file: string, stack: string, force: boolean): LockHolder | undefined {
  const holder = readLockHolder(file);
  if (!holder) return undefined;
  if (!force) {
    if (holder.host === hostname() && holder.pid > 0 && isProcessAlive(holder.pid)) {
      throw new PilotError(`Stack "${stack}" is locked by ${describe(holder)}, which is still running.`, {
        hint: "Let it finish or stop it first; unlocking a running pilot could corrupt the state.",
      });
    }
    if (holder.host !== hostname()) {
      throw new PilotError(`Stack "${stack}" is locked by ${describe(holder)}, another machine; Pilot cannot check it.`, {
        hint: `If you are sure it is not running, run \`pilot unlock --name ${stack} --force\`.`,
      });
    }
  }
  unlinkSync(file);
  return holder;
}
