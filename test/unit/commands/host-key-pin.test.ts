/**
 * A host key pin belongs to one VM (issue 8, point 5): pinned from the
 * cloud's own record before the first connection, re-pinned with no prompt
 * after a rebuild Pilot made itself (state records a new server id), kept —
 * so a changed key is refused — while the server is the same VM.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprintOfLine } from "../../../src/bootstrap/ssh/host-key.js";
import { pinPublishedHostKey } from "../../../src/commands/bootstrap-stack.js";
import type { CommandContext } from "../../../src/commands/context.js";
import type { EngineEvent } from "../../../src/engine/types.js";
import type { Provider } from "../../../src/providers/types.js";
import { StateStore } from "../../../src/state/store.js";
import { tempHome } from "../../support/temp-home.js";

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmUbd9bVJXyrNgOFJNNa8nJeKO5wMTjyHt+BG1Ab1Cd";

let t: ReturnType<typeof tempHome>;
let store: StateStore;
let events: EngineEvent[];
let warnings: string[];
beforeEach(async () => {
  t = tempHome();
  store = new StateStore(t.home, "s");
  store.init("aws", {});
  events = [];
  warnings = [];
});
afterEach(() => t.cleanup());

function ctx(): CommandContext {
  const ui = { emit: (e: EngineEvent) => events.push(e), warn: (m: string) => warnings.push(m) };
  return { home: t.home, stack: "s", stackDir: store.dir, json: true, verbose: false, interactive: false, env: {}, ui: ui as never, store };
}
/** A provider that publishes `key` for whatever server state holds, counting the look-ups. */
function publishing(key: string | undefined) {
  const calls: string[] = [];
  const provider = { publishedHostKey: async (state: any) => (calls.push(state.resources.server.id), key) } as unknown as Provider<any>;
  return { provider, calls };
}
const setServer = (id: string) =>
  store.update((s) => {
    s.resources.server = { type: "aws.ec2.instance", status: "created", token: "t", id, out: {}, dependsOn: [] };
  });

describe("pinPublishedHostKey", () => {
  it("pins the published key before any connection, for this server id", async () => {
    await setServer("i-1");
    await pinPublishedHostKey(ctx(), publishing(KEY_A).provider, "bootstrap");
    expect(store.current!.server).toEqual({ hostKeyFingerprint: fingerprintOfLine(KEY_A), hostKeySource: "cloud", hostKeyServerId: "i-1" });
  });

  it("after Pilot rebuilt the server (a new id in state) re-pins from the cloud with no prompt", async () => {
    await setServer("i-1");
    await pinPublishedHostKey(ctx(), publishing(KEY_A).provider, "bootstrap");
    const knownHosts = join(store.dir, "known_hosts");
    writeFileSync(knownHosts, `1.2.3.4 ${KEY_A}\n`);
    await setServer("i-2");
    const { provider, calls } = publishing(KEY_B);
    await pinPublishedHostKey(ctx(), provider, "bootstrap");
    expect(calls).toEqual(["i-2"]);
    expect(store.current!.server).toEqual({ hostKeyFingerprint: fingerprintOfLine(KEY_B), hostKeySource: "cloud", hostKeyServerId: "i-2" });
    expect(existsSync(knownHosts)).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ type: "log", message: expect.stringMatching(/rebuilt by Pilot \(i-1 → i-2\)/) }));
  });

  it("on the same server keeps the pin whatever is published now, so the connection refuses a changed key", async () => {
    await setServer("i-1");
    await pinPublishedHostKey(ctx(), publishing(KEY_A).provider, "bootstrap");
    const { provider, calls } = publishing(KEY_B);
    await pinPublishedHostKey(ctx(), provider, "bootstrap");
    expect(calls).toEqual([]);
    expect(store.current!.server.hostKeyFingerprint).toBe(fingerprintOfLine(KEY_A));
  });

  it("pins a published fingerprint as it is (EC2's console may give only the fingerprint block)", async () => {
    await setServer("i-1");
    await pinPublishedHostKey(ctx(), publishing(fingerprintOfLine(KEY_B)).provider, "bootstrap");
    expect(store.current!.server.hostKeyFingerprint).toBe(fingerprintOfLine(KEY_B));
  });

  it("with nothing published says that the first contact will pin", async () => {
    await setServer("i-1");
    await pinPublishedHostKey(ctx(), publishing(undefined).provider, "bootstrap");
    expect(store.current!.server.hostKeyFingerprint).toBeUndefined();
    expect(warnings.join("\n")).toMatch(/first contact/);
  });
});
