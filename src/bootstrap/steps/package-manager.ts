import { asRoot, cmd, type StepContext } from "./context.js";
import type { Step } from "../types.js";

/**
 * True (exit 0) when no process holds apt's or dpkg's locks. dpkg takes
 * fcntl locks, which `flock` cannot see, so we ask `fuser` (psmisc, on every
 * Ubuntu and Debian cloud image) who has the lock files open. Where fuser is
 * missing we cannot tell and report free: the install step's apt-get also
 * waits for the lock itself (DPkg::Lock::Timeout), so a wrong guess costs
 * nothing.
 */
export const PACKAGE_MANAGER_FREE_SCRIPT = [
  "command -v fuser >/dev/null 2>&1 || exit 0",
  "for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock; do",
  '  [ -e "$f" ] || continue',
  '  if fuser "$f" >/dev/null 2>&1; then echo "busy: $f"; exit 1; fi',
  "done",
].join("\n");

/**
 * A fresh Ubuntu VM runs cloud-init's apt and unattended-upgrades for the
 * first minutes; installing then fails on the dpkg lock. Poll until free
 * (every 5 s, up to 15 minutes: unattended-upgrades on a stale image can take
 * that long) instead of sleeping a fixed time.
 */
export function waitForPackageManager(ctx: StepContext): Step {
  return {
    name: "package-manager",
    description: "wait until apt/dpkg are not locked (cloud-init, unattended-upgrades)",
    check: [cmd(asRoot(ctx, "sh", "-c", PACKAGE_MANAGER_FREE_SCRIPT))],
    apply: [],
    wait: { timeoutMs: 15 * 60_000, intervalMs: 5_000 },
  };
}
