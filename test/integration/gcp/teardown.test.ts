/**
 * `pilot teardown` of a GCP stack through the real CLI against the fake:
 * nothing labelled or named for the stack is left (also when Service
 * Networking keeps refusing the connection delete for a while after Cloud
 * SQL is gone), and `--orphans` finds and removes a stack whose state file is
 * lost, with `--dry-run` only listing. The Cloud Run apps' secrets (`pilot
 * up` writes them) go too: the stack's lineage's, or with --orphans every
 * lineage's of that stack name.
 */
import { existsSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { writeAppSecrets } from "../../../src/providers/gcp/app-secrets.js";
import { createCloudRunEnv } from "../../../src/providers/gcp/cloud-run-release.js";
import { expectNothingLeft, expectOneStack, names, NODE_KEYS, ORPHAN_WHERE, stackInventory, useGcpHarness } from "./harness.js";

const h = useGcpHarness("pilot-gcp-td-");

type Event = { type: string; key?: string; message?: string };

/** What teardown --orphans reports for each orphan. */
type OrphanReport = { key: string; type: string; id: string; lineage?: string; dependsOn: string[] };

/** What `pilot up` of a Cloud Run app leaves in Secret Manager: one secret per variable. */
async function appSecrets(stack: string, stackId: string, app: string, vars: Record<string, string>): Promise<void> {
  const env = createCloudRunEnv({ PILOT_GCP_ENDPOINT: h.gcp.url }, h.gcp.project, "europe-west1");
  const reader = `serviceAccount:${h.gcp.projectNumber}-compute@developer.gserviceaccount.com`;
  await writeAppSecrets(env.secrets, { project: h.gcp.project, stack, stackId, appProject: "shop", app }, vars, reader);
}
const secretIds = () => [...h.gcp.control.world.secrets.secrets.values()].map((s) => s.id).sort();

describe("pilot teardown (gcp, fake)", () => {
  it("--yes --skip-final-snapshot deletes every node and leaves nothing of the stack, in the fake or on disk", async () => {
    h.quick();
    expect((await h.cli.up("td-all")).code).toBe(0);
    h.realistic(); // the teardown under test sees every operation RUNNING, then DONE
    expectOneStack(h.gcp, h.cli, "td-all");
    const lineage = h.cli.state("td-all").lineage;
    await appSecrets("td-all", lineage, "web", { DATABASE_URL: "postgres://x", API_KEY: "k-123456" });
    await appSecrets("td-all2", lineage, "web", { API_KEY: "k-654321" }); // another stack's (the name is a prefix of ours and vice versa)
    const r = await h.cli.teardown("td-all", ["--skip-final-snapshot", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, command: "teardown", stack: "td-all" });
    expect([...r.json.deleted].sort()).toEqual([...NODE_KEYS].sort());
    const deleted = (r.json.deleted as string[]).indexOf.bind(r.json.deleted);
    // In an order Google accepts: the VM before its address, subnetwork and account; Cloud SQL before the connection; the network last.
    expect(deleted("server")).toBeLessThan(deleted("address-server"));
    expect(deleted("server")).toBeLessThan(deleted("subnet"));
    expect(deleted("db")).toBeLessThan(deleted("db-peering"));
    expect(deleted("db-peering")).toBeLessThan(deleted("db-range"));
    expect(deleted("network")).toBe(NODE_KEYS.length - 1);
    const dbSaid = (r.json.events as Event[]).filter((e) => e.type === "progress" && e.key === "db").map((e) => e.message).join("\n");
    expect(dbSaid).toMatch(/no final backup/);
    expect(h.gcp.control.requests({ methodId: "sql.instances.delete" }).map((q) => q.query.enableFinalBackup)).toEqual([undefined]);
    expectNothingLeft(h.gcp, "td-all");
    expect(secretIds()).toEqual(["pilot-td-all2_shop_web_API_KEY"]);
    expect(r.json.appResources).toEqual([
      { type: "gcp.secretmanager.secret", id: "pilot-td-all_shop_web_API_KEY" },
      { type: "gcp.secretmanager.secret", id: "pilot-td-all_shop_web_DATABASE_URL" },
    ]);
    expect(existsSync(h.cli.stackDir("td-all"))).toBe(false);
    // And the stack is gone for the CLI too.
    const status = await h.cli.run(["status", "--name", "td-all"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/does not exist/);
  });

  it("waits out Service Networking's refusals to delete the connection after Cloud SQL is gone, keeps a final backup, and says so", async () => {
    h.quick();
    expect((await h.cli.up("td-refuse")).code).toBe(0);
    h.realistic(); // the teardown under test sees every operation RUNNING, then DONE
    const ids = h.cli.ids("td-refuse");
    h.gcp.control.refuseConnectionDelete(2);
    const r = await h.cli.run(["teardown", "--name", "td-refuse", "--yes"]);
    expect(r.code, r.stderr).toBe(0);
    const said = `${r.stdout}\n${r.stderr}`;
    expect(said).toMatch(/Service Networking still refuses .*retry 1 of \d+/);
    expect(said).toMatch(/Service Networking still refuses .*retry 2 of \d+/);
    expect(said).not.toMatch(/retry 3 of/);
    expect(said).toMatch(/deleted the private services connection/);
    expect(said).not.toMatch(/removed the VPC peering/);
    expect(said).toMatch(/its final backup is kept 30 days/);
    expect(r.stdout).toMatch(/^Stack "td-refuse" is gone \(14 resources deleted\)\.$/m);
    expect(r.stdout).toContain("pilot teardown --orphans --name td-refuse --provider gcp --region europe-west1 --project pilot-test");
    // Three delete calls (two refused), no fallback to removing the peering through Compute.
    expect(h.gcp.control.requests({ methodId: "servicenetworking.services.connections.deleteConnection" })).toHaveLength(3);
    expect(h.gcp.control.requests({ methodId: "compute.networks.removePeering" })).toEqual([]);
    const sqlDelete = h.gcp.control.requests({ methodId: "sql.instances.delete" });
    expect(sqlDelete.map((q) => [q.resource, q.query.enableFinalBackup])).toEqual([[`projects/pilot-test/instances/${ids.db}`, "true"]]);
    expectNothingLeft(h.gcp, "td-refuse");
    expect(existsSync(h.cli.stackDir("td-refuse"))).toBe(false);
  });
});

describe("pilot teardown --orphans (gcp, fake)", () => {
  it("finds and removes a stack whose state file is lost; --dry-run only lists", async () => {
    h.quick();
    expect((await h.cli.up("lost")).code).toBe(0);
    h.realistic();
    const state = h.cli.state("lost");
    await appSecrets("lost", state.lineage, "web", { API_KEY: "k-123456" });
    const before = names(stackInventory(h.gcp, "lost"));
    rmSync(h.cli.stackDir("lost"), { recursive: true });

    // Without a state file the provider has to be named.
    const blind = await h.cli.run(["teardown", "--orphans", "--name", "lost", "--yes"]);
    expect(blind.code).toBe(2);
    expect(blind.stderr).toMatch(/no state file[\s\S]*--provider aws\|gcp --region REGION \(and --project on GCP\)/);

    // --dry-run lists every one of them and deletes nothing.
    h.gcp.control.clearRequests();
    const dry = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...ORPHAN_WHERE, "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ ok: true, dryRun: true, plan: [] });
    const orphans = dry.json.orphans as OrphanReport[];
    const r = state.resources;
    // Cloud SQL's database and user go with their instance; everything else is found.
    const expected = NODE_KEYS.filter((k) => k !== "db-database" && k !== "db-user").map((k) => `${r[k].type} ${r[k].id}`);
    expect(orphans.map((o) => `${o.type} ${o.id}`).sort()).toEqual(expected.sort());
    expect(orphans.filter((o) => o.lineage !== undefined).every((o) => o.lineage === state.lineage)).toBe(true);
    expect(h.gcp.control.requests().filter((q) => q.httpMethod !== "GET" && !/getIamPolicy|batchGet/.test(q.methodId ?? "")), "dry run changed something").toEqual([]);
    expect(names(stackInventory(h.gcp, "lost"))).toEqual(before);
    const human = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...ORPHAN_WHERE, "--dry-run"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/not in its state \(12\)/);
    for (const o of orphans) expect(human.stdout).toContain(o.id);
    expect(human.stdout).toMatch(/Dry run: nothing was changed/);
    expect(existsSync(h.cli.stackDir("lost"))).toBe(false);

    // The real run: everything goes.
    const gone = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...ORPHAN_WHERE, "--yes", "--json"]);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.json.ok).toBe(true);
    expect([...gone.json.deleted].sort()).toEqual(orphans.map((o) => o.key).sort());
    expectNothingLeft(h.gcp, "lost");
    expect(secretIds()).toEqual([]);
    expect(existsSync(h.cli.stackDir("lost"))).toBe(false);

    // Nothing is left to find.
    const again = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...ORPHAN_WHERE, "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to delete: no resource is tagged for stack "lost" in europe-west1\./);
  });

  it("a plain teardown leaves an earlier lineage's leftovers and says how to remove them; --orphans with state removes both", async () => {
    // Lineage 1, then its state is lost and the stack is made again (lineage 2).
    h.quick();
    expect((await h.cli.up("twice")).code).toBe(0);
    const firstLineage = h.cli.state("twice").lineage;
    await appSecrets("twice", firstLineage, "web", { API_KEY: "k-123456" });
    const first = names(stackInventory(h.gcp, "twice"));
    rmSync(h.cli.stackDir("twice"), { recursive: true });
    expect((await h.cli.up("twice")).code).toBe(0);

    const plain = await h.cli.teardown("twice");
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain("pilot teardown --orphans --name twice --provider gcp --region europe-west1 --project pilot-test");
    // Only lineage 2 went: lineage 1 is all still there.
    expect(names(stackInventory(h.gcp, "twice"))).toEqual(first);

    // Lineage 3 with its state, plus lineage 1's leftovers: one --orphans run removes both.
    expect((await h.cli.up("twice")).code).toBe(0);
    const lineage = h.cli.state("twice").lineage;
    h.realistic();
    const r = await h.cli.run(["teardown", "--orphans", "--name", "twice", "--yes", "--skip-final-snapshot", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const orphans = r.json.orphans as OrphanReport[];
    expect(orphans).toHaveLength(12);
    expect(orphans.filter((o) => o.lineage !== undefined).every((o) => o.lineage === firstLineage), JSON.stringify(orphans)).toBe(true);
    expect(orphans.every((o) => o.lineage !== lineage)).toBe(true);
    expect(r.json.deleted).toHaveLength(NODE_KEYS.length + orphans.length);
    expectNothingLeft(h.gcp, "twice");
    expect(secretIds()).toEqual([]);
    expect(existsSync(h.cli.stackDir("twice"))).toBe(false);
  });
});
