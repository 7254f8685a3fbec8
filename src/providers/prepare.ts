/** Local prerequisites every cloud stack makes before its first resource: the SSH key and the database password. */
import { mkdirSync } from "node:fs";
import type { StateStore } from "../state/store.js";
import { generatePassword } from "./password.js";
import { ensureSshKey } from "./ssh-key.js";

/**
 * Makes the stack folder (0700), the stack's ed25519 key and the database
 * password, idempotently. The password is in state before any resource
 * exists, so a crash mid-create never leaves a database whose password was
 * never recorded.
 */
export async function prepareCloudStack(stackDir: string, stack: string, keyPath: string, store: StateStore): Promise<void> {
  mkdirSync(stackDir, { recursive: true, mode: 0o700 });
  ensureSshKey(keyPath, stack);
  if (!store.current?.secrets.dbPassword) {
    const password = generatePassword();
    await store.update((s) => {
      if (!s.secrets.dbPassword) s.secrets.dbPassword = password;
    });
  }
}
