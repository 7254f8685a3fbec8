import { PilotError } from "../errors.js";
import { STATE_VERSION } from "./schema.js";

/** A step from one state version to the next. */
export type Migration = (state: Record<string, unknown>) => Record<string, unknown>;

/**
 * Migrations keyed by the version they upgrade *from*; each format change adds
 * one entry here and an example under state/examples/.
 */
export const migrations: Record<number, Migration> = {
  // 1 → 2: `apps` and `projects` appear. A version 1 file has none; empty records say so explicitly,
  // and the version bump makes an older Pilot refuse the file instead of calling it damaged.
  1: (state) => ({ ...state, apps: {}, projects: {} }),
  // 2 → 3: apps may record `secretsVariable`. A version 2 app has none, which is right: its ECS
  // waypoint.hcl has a fixed `secrets` map, and the bump makes an older Pilot refuse the file.
  2: (state) => state,
};

/** Upgrades an older state document step by step to STATE_VERSION. */
export function migrate(
  state: { version: number } & Record<string, unknown>,
  steps: Record<number, Migration> = migrations,
  target: number = STATE_VERSION,
): Record<string, unknown> {
  let current: Record<string, unknown> = state;
  while ((current.version as number) < target) {
    const from = current.version as number;
    const step = steps[from];
    if (!step) {
      throw new PilotError(`State version ${from} is too old for this Pilot (it reads version ${target}).`, {
        hint: "Run the Pilot release that wrote it once to upgrade the file, then this one.",
      });
    }
    current = { ...step(current), version: from + 1 };
  }
  return current;
}
