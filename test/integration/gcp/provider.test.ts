/**
 * The GCP provider in-process, against the fake, with the real engine and
 * state store and polls that do not sleep: what the CLI tests cannot reach
 * quickly (Service Networking refusing for longer than teardown retries, an
 * old VM whose agent never published its host keys), and what a kind must
 * never do (replace a running server for a newer image, adopt a stranger's
 * resource of the same name).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { destroyEntries } from "../../../src/engine/destroy.js";
import { reconcile } from "../../../src/engine/reconcile.js";
import type { EngineEvent } from "../../../src/engine/types.js";
import { createGcpProvider, type GcpSettings } from "../../../src/providers/gcp/provider.js";
import type { Provider } from "../../../src/providers/types.js";
import { StateStore } from "../../../src/state/store.js";
import { startFakeGcp, type FakeGcp } from "../../fakes/gcp/index.js";

const STACK = "it";
let fake: FakeGcp;
let home: string;
let events: EngineEvent[];
let provider: Provider<GcpSettings>;
let settings: GcpSettings;
let store: StateStore;

beforeAll(async () => {
  fake = await startFakeGcp({ latencyMs: 5 });
});
afterAll(() => fake.close());

beforeEach(async () => {
  fake.control.reset();
  for (const s of ["artifactregistry.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com"]) fake.control.enableApi(s);
  home = mkdtempSync(join(tmpdir(), "pilot-gcp-provider-"));
  events = [];
  provider = createGcpProvider(
    { stack: STACK, stackDir: join(home, "stacks", STACK), env: { PILOT_GCP_ENDPOINT: fake.url }, emit: (e) => events.push(e) },
    { pollScale: 0, detectPublicIp: async () => "203.0.113.9" },
  );
  settings = await provider.resolveSettings({ project: fake.project, region: "europe-west1" }, undefined);
  await provider.checkCredentials(settings);
  store = new StateStore(home, STACK);
  store.init("gcp", settings);
  await provider.prepare(settings, store);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const up = () => reconcile(provider, settings, store, { stack: STACK, emit: (e) => events.push(e) });
const progressOf = (key: string) => events.filter((e): e is Extract<EngineEvent, { type: "progress" }> => e.type === "progress" && e.key === key).map((e) => e.message);

describe("the GCP provider against the fake", () => {
  it("removes the VPC peering itself when Service Networking keeps refusing, and says so", async () => {
    const r = await up();
    expect(r.applied!.failed).toEqual([]);
    fake.control.refuseConnectionDelete(1000);
    const destroyed = await destroyEntries(Object.keys(store.current!.resources), {
      store,
      stack: STACK,
      emit: (e) => events.push(e),
      kinds: provider.kinds({ ...settings, skipFinalSnapshot: true }),
      isRetryableDelete: (e) => provider.isRetryableDelete(e),
      retryDelaysMs: [0, 0, 0],
    });
    expect(destroyed.failed.map((f) => `${f.key}: ${String(f.error)}`)).toEqual([]);
    expect(progressOf("db-peering").join("\n")).toMatch(/Service Networking kept refusing; removed the VPC peering servicenetworking-googleapis-com instead/);
    expect(fake.control.inventory({ labels: { "pilot-stack": STACK } })).toEqual([]);
    expect(fake.control.inventory().filter((i) => i.name.startsWith(`pilot-${STACK}-`))).toEqual([]);
  });

  it("keeps a running server when a newer Ubuntu image appears", async () => {
    await up();
    const server = store.current!.resources.server;
    fake.control.setNewestImage("ubuntu-2404-noble-amd64-v20991231");
    const again = await up();
    expect(again.changes.find((c) => c.key === "server")).toMatchObject({ action: "keep" });
    expect(store.current!.resources.server.id).toBe(server.id);
  });

  it("refuses to adopt a network of the same name that another lineage made", async () => {
    const first = await up();
    expect(first.applied!.failed).toEqual([]);
    // A second state (a new lineage) whose derived names cannot collide … unless forced to: give it the first one's lineage prefix.
    const other = new StateStore(home, "other");
    other.init("gcp", settings);
    const lineage = store.current!.lineage;
    await other.update((s) => {
      s.lineage = `${lineage.slice(0, 8)}-0000-4000-8000-000000000000`;
    });
    const strangerProvider = createGcpProvider(
      { stack: STACK, stackDir: join(home, "stacks", "other"), env: { PILOT_GCP_ENDPOINT: fake.url }, emit: (e) => events.push(e) },
      { pollScale: 0 },
    );
    await strangerProvider.prepare(settings, other);
    const r = await reconcile(strangerProvider, settings, other, { stack: STACK, emit: (e) => events.push(e) });
    const failed = r.applied!.failed.find((f) => f.key === "network");
    expect(String(failed?.error)).toMatch(/network pilot-it-[0-9a-f]{8}-net already exists and does not belong to this stack/);
  });

  it("pins the published host key, and gives up at once on a VM old enough that its agent would have published one", async () => {
    await up();
    const state = store.current!;
    fake.control.setGuestHostKeys({ "ssh-ed25519": "AAAAC3NzaC1lZDI1NTE5AAAAIOpmp9Nr7YcCGsGa1SRQr3u9yLO5qzY9XyUiyE6hT0Xy" });
    expect(await provider.publishedHostKey!(state, () => {})).toBe("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpmp9Nr7YcCGsGa1SRQr3u9yLO5qzY9XyUiyE6hT0Xy");
    fake.control.setGuestHostKeys({});
    const old = structuredClone(state);
    (old.resources.server.out as { startedAt?: string }).startedAt = "2020-01-01T00:00:00Z";
    expect(await provider.publishedHostKey!(old, () => {})).toBeUndefined();
  });
});
