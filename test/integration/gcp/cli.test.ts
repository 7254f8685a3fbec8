/**
 * `pilot up-server --provider gcp` through the real CLI against the GCP fake:
 * creating the stack and its security posture, a re-run that changes and
 * reads nothing it need not, repairing out-of-band deletions and a widened
 * firewall, the lock, retried 429/503s, disabled APIs, input that must create
 * nothing, and the `setup gcp` / `setup --gcp` aliases.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cloudresourcemanager_v1 } from "googleapis/build/src/apis/cloudresourcemanager/v1.js";
import { sqladmin_v1 } from "googleapis/build/src/apis/sqladmin/v1.js";
import { describe, expect, it } from "vitest";
import { startApiCounter } from "../../../bench/api-counter.js";
import {
  ALLOWED, computeClient, counts, expectOneStack, expectShortError, FULL_STACK, GcpCli, isRead, names, NODE_KEYS, OFF_AT_START, perMethod,
  PROJECT, REGION, stackInventory, until, useGcpHarness, waitOp, ZONE,
} from "./harness.js";

const h = useGcpHarness("pilot-gcp-cli-");

type Change = { key: string; action: string; reason: string };
type Event = { type: string; key?: string; action?: string; message?: string };

/** Plan entries that are not "keep", as key → action. */
const changed = (plan: Change[]) => Object.fromEntries(plan.filter((c) => c.action !== "keep").map((c) => [c.key, c.action]));
/** "done" events that are not "keep", as key → action. */
const doneChanged = (events: Event[]) => Object.fromEntries(events.filter((e) => e.type === "done" && e.action !== "keep").map((e) => [e.key, e.action]));

/** Numeric ids of the stack's items by collection and name: a re-created resource gets a new one. */
function itemIds(stack: string): Record<string, string | undefined> {
  return Object.fromEntries(stackInventory(h.gcp, stack).map((i) => [`${i.api}.${i.collection}/${i.name}`, i.id]));
}

describe("pilot up-server --provider gcp (fake)", () => {
  it("creates the whole stack with its security posture, records every node, and prints one JSON document without secrets", async () => {
    const r = await h.cli.up("gcp-create", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json, "stdout is exactly one JSON document").toBeDefined();
    expect(r.json).toMatchObject({ ok: true, command: "up-server", stack: "gcp-create" });
    expect(r.stderr).toMatch(/^Acting as nobody \(every Google endpoint is on loopback: no credentials are sent\) on project pilot-test\.$/m);
    expect(r.stderr).not.toMatch(/Warning|\(node:\d+\)/);
    expect((r.json.plan as Change[]).map((c) => c.action)).toEqual(NODE_KEYS.map(() => "create"));
    expect(Object.keys(r.json.resources).sort()).toEqual([...NODE_KEYS].sort());

    expectOneStack(h.gcp, h.cli, "gcp-create");
    const state = h.cli.state("gcp-create");
    expect(state.provider).toBe("gcp");
    expect(state.secrets.dbPassword).toMatch(/^[A-Za-z0-9]{32}$/);
    for (const [key, res] of Object.entries(r.json.resources as Record<string, { id: string; status: string }>)) {
      expect(res, key).toEqual({ type: state.resources[key].type, id: state.resources[key].id, status: "created" });
    }
    const ids = h.cli.ids("gcp-create");
    const lineage8 = state.lineage.slice(0, 8);
    expect(ids.network).toBe(`pilot-gcp-create-${lineage8}-net`);
    expect(ids.connector).toBe(`projects/${PROJECT}/locations/${REGION}/connectors/pilot-gcp-create-${lineage8}`);

    // Labels where GCP takes them, an ownership note in the description where it does not.
    const items = stackInventory(h.gcp, "gcp-create");
    const labels = { "pilot-stack": "gcp-create", "pilot-stack-id": state.lineage };
    for (const [collection, key] of [["addresses", "address-server"], ["globalAddresses", "db-range"], ["instances", "server"]] as const) {
      const item = items.find((i) => i.api !== "sqladmin" && i.collection === collection)!;
      expect(item.labels, collection).toMatchObject({ ...labels, "pilot-key": key });
    }
    expect(items.find((i) => i.api === "sqladmin" && i.collection === "instances")!.labels).toMatchObject({ ...labels, "pilot-key": "db" });
    for (const [collection, key] of [["networks", "network"], ["subnetworks", "subnet"], ["firewalls", "fw-server"], ["serviceAccounts", "sa-server"], ["serviceAccounts", "sa-apps"]] as const) {
      const item = items.find((i) => i.collection === collection && (collection !== "serviceAccounts" || i.name === ids[key]))!;
      expect(item.description, collection).toContain(`pilot-stack=gcp-create pilot-stack-id=${state.lineage} pilot-key=${key}`);
    }

    const compute = computeClient(h.gcp);
    const serverTag = "pilot-gcp-create-server";
    // The firewall: exactly the allowed range, to the server's tag only, SSH and Waypoint only.
    const fw = (await compute.firewalls.get({ project: PROJECT, firewall: ids["fw-server"]! })).data;
    expect(fw.sourceRanges).toEqual([ALLOWED]);
    expect(fw.targetTags).toEqual([serverTag]);
    expect(fw.direction).toBe("INGRESS");
    expect(fw.disabled ?? false).toBe(false);
    expect(fw.allowed).toEqual([{ IPProtocol: "tcp", ports: ["22", "9701", "9702"] }]);
    expect(fw.network).toMatch(new RegExp(`/global/networks/${ids.network}$`));

    // Cloud SQL: private only, TLS required, backups on, in the stack's network.
    const sql = new sqladmin_v1.Sqladmin({ rootUrl: h.gcp.url });
    const db = (await sql.instances.get({ project: PROJECT, instance: ids.db! })).data;
    expect(db.settings?.ipConfiguration?.ipv4Enabled).toBe(false);
    expect(db.settings?.ipConfiguration?.privateNetwork).toMatch(new RegExp(`projects/${PROJECT}/global/networks/${ids.network}$`));
    expect(db.settings?.ipConfiguration?.sslMode).toBe("ENCRYPTED_ONLY");
    expect(db.settings?.backupConfiguration?.enabled).toBe(true);
    expect(db.databaseVersion).toBe("POSTGRES_16");
    expect(db.region).toBe(REGION);
    expect((db.ipAddresses ?? []).map((a) => a.type)).toEqual(["PRIVATE"]);

    // The VM: only the stack's key, no project keys, no OS Login, Shielded, the static address, the service account.
    const vm = (await compute.instances.get({ project: PROJECT, zone: ZONE, instance: ids.server! })).data;
    const meta = Object.fromEntries((vm.metadata?.items ?? []).map((i) => [i.key, i.value]));
    expect(meta["block-project-ssh-keys"]).toBe("TRUE");
    expect(meta["enable-oslogin"]).toBe("FALSE");
    const publicKey = readFileSync(join(h.cli.stackDir("gcp-create"), "id_ed25519.pub"), "utf8").trim();
    expect(publicKey).toMatch(/^ssh-ed25519 /);
    expect(meta["ssh-keys"]?.split("\n")).toEqual([`ubuntu:${publicKey}`]);
    expect(vm.shieldedInstanceConfig).toMatchObject({ enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
    const address = (await compute.addresses.get({ project: PROJECT, region: REGION, address: ids["address-server"]! })).data;
    expect(address.addressType).toBe("EXTERNAL");
    expect(address.status).toBe("IN_USE");
    expect(vm.networkInterfaces?.[0]?.accessConfigs?.map((a) => a.natIP)).toEqual([address.address]);
    expect(vm.networkInterfaces?.[0]?.subnetwork).toMatch(new RegExp(`/subnetworks/${ids.subnet}$`));
    expect(vm.serviceAccounts?.map((s) => s.email)).toEqual([ids["sa-server"]]);
    // Its token (what the runner's credential helper fetches from the metadata server) may call every API
    // the account's roles allow, and the account may push to the stack's Artifact Registry repository.
    expect(vm.serviceAccounts?.[0]?.scopes).toEqual(["https://www.googleapis.com/auth/cloud-platform"]);
    const crm = new cloudresourcemanager_v1.Cloudresourcemanager({ rootUrl: h.gcp.url });
    const policy = (await crm.projects.getIamPolicy({ resource: PROJECT, requestBody: { options: { requestedPolicyVersion: 3 } } })).data;
    const rolesOfServer = (policy.bindings ?? []).filter((b) => !b.condition && b.members?.includes(`serviceAccount:${ids["sa-server"]}`)).map((b) => b.role);
    expect(rolesOfServer).toContain("roles/artifactregistry.writer");
    // Cloud Run: deploy, but never set a service's IAM policy (only `pilot up` makes an app public, with the user's credentials).
    expect(rolesOfServer).toContain("roles/run.developer");
    expect(rolesOfServer).not.toContain("roles/run.admin");
    // The apps' account (what a Cloud Run app runs as): no role on the project at all.
    expect(ids["sa-apps"]).toBe(`pilot-gcp-create-${lineage8}-run@${PROJECT}.iam.gserviceaccount.com`);
    expect((policy.bindings ?? []).filter((b) => b.members?.includes(`serviceAccount:${ids["sa-apps"]}`))).toEqual([]);
    expect(vm.tags?.items).toEqual([serverTag]);
    expect(vm.status).toBe("RUNNING");
  });

  it("changes nothing on a second run: same ids, every plan action keep, no mutating call and at most one read per resource", async () => {
    h.quick(); // a no-op run starts no operation: nothing to wait for either way
    expect((await h.cli.up("gcp-again")).code).toBe(0);
    const ids = h.cli.ids("gcp-again");
    const before = itemIds("gcp-again");
    h.gcp.control.clearRequests();

    const r = await h.cli.up("gcp-again", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json.plan as Change[]).map((c) => [c.key, c.action, c.reason]).sort()).toEqual(NODE_KEYS.map((k) => [k, "keep", "up to date"]).sort());
    expect((r.json.events as Event[]).filter((e) => e.type === "start" && e.action !== "keep")).toEqual([]);
    expect(h.cli.ids("gcp-again")).toEqual(ids);
    expect(itemIds("gcp-again")).toEqual(before);

    const reqs = h.gcp.control.requests();
    const table = JSON.stringify(perMethod(reqs), null, 1);
    expect(reqs.filter((q) => !isRead(q)).map((q) => `${q.httpMethod} ${q.methodId}`), `mutating calls on a no-op run:\n${table}`).toEqual([]);
    expect(reqs.filter((q) => q.status !== 200).length, `failed calls:\n${table}`).toBe(0);
    // The credentials and API checks read the project and the services once each; every resource is read at most once.
    const checks = reqs.filter((q) => q.methodId === "cloudresourcemanager.projects.get" || q.methodId === "serviceusage.services.batchGet");
    expect(checks.map((q) => q.methodId).sort(), table).toEqual(["cloudresourcemanager.projects.get", "serviceusage.services.batchGet"]);
    const perResource: Record<string, string[]> = {};
    for (const q of reqs) if (!checks.includes(q)) (perResource[q.resource] ??= []).push(q.methodId ?? q.httpMethod);
    const reread = Object.entries(perResource).filter(([, calls]) => calls.length > 1);
    expect(reread, `resources read more than once on a no-op run:\n${table}`).toEqual([]);
    expect(Object.keys(perResource).length, `one read per node at most (13 nodes):\n${table}`).toBeLessThanOrEqual(NODE_KEYS.length);
  });

  it("re-creates a firewall rule and a static address deleted out of band, re-attaches the address, and keeps the rest", async () => {
    h.quick();
    expect((await h.cli.up("gcp-drift")).code).toBe(0);
    h.realistic();
    const ids = h.cli.ids("gcp-drift");
    const before = itemIds("gcp-drift");
    const compute = computeClient(h.gcp);
    await waitOp(compute, (await compute.firewalls.delete({ project: PROJECT, firewall: ids["fw-server"]! })).data);
    // An address held by a VM cannot be deleted (as on Google): detach it first, as an operator would.
    const vm = (await compute.instances.get({ project: PROJECT, zone: ZONE, instance: ids.server! })).data;
    const nic = vm.networkInterfaces![0]!;
    await waitOp(
      compute,
      (await compute.instances.deleteAccessConfig({ project: PROJECT, zone: ZONE, instance: ids.server!, networkInterface: nic.name!, accessConfig: nic.accessConfigs![0]!.name! })).data,
    );
    await waitOp(compute, (await compute.addresses.delete({ project: PROJECT, region: REGION, address: ids["address-server"]! })).data);
    const { "compute.firewalls": _fw, "compute.addresses": _ip, ...rest } = FULL_STACK;
    expect(counts(stackInventory(h.gcp, "gcp-drift"))).toEqual(rest);

    const r = await h.cli.up("gcp-drift", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.json.plan as Change[];
    expect(changed(plan)).toMatchObject({ "fw-server": "create", "address-server": "create" });
    expect(plan.find((c) => c.key === "fw-server")!.reason).toMatch(/deleted outside Pilot/);
    // The server is diffed again at apply time with the new address: its access config is put back in place.
    expect(doneChanged(r.json.events as Event[])).toEqual({ "fw-server": "create", "address-server": "create", server: "update" });

    expectOneStack(h.gcp, h.cli, "gcp-drift");
    expect(h.cli.ids("gcp-drift")).toEqual(ids); // derived names: the same ids
    const after = itemIds("gcp-drift");
    const recreated = Object.keys(before).filter((k) => before[k] !== after[k]);
    expect(recreated.sort()).toEqual([`compute.addresses/${ids["address-server"]}`, `compute.firewalls/${ids["fw-server"]}`]);
    const address = (await compute.addresses.get({ project: PROJECT, region: REGION, address: ids["address-server"]! })).data;
    const server = (await compute.instances.get({ project: PROJECT, zone: ZONE, instance: ids.server! })).data;
    expect(server.networkInterfaces?.[0]?.accessConfigs?.map((a) => a.natIP)).toEqual([address.address]);
    expect(address.status).toBe("IN_USE");
    const fw = (await compute.firewalls.get({ project: PROJECT, firewall: ids["fw-server"]! })).data;
    expect(fw.sourceRanges).toEqual([ALLOWED]);
  });

  it("puts a firewall rule widened out of band (0.0.0.0/0 added) back to exactly the allowed range, in place", async () => {
    h.quick();
    expect((await h.cli.up("gcp-wide")).code).toBe(0);
    h.realistic();
    const ids = h.cli.ids("gcp-wide");
    const before = itemIds("gcp-wide");
    const compute = computeClient(h.gcp);
    // Google's discovery document requires the rule's name in a patch body too (gcloud sends it).
    await waitOp(compute, (await compute.firewalls.patch({ project: PROJECT, firewall: ids["fw-server"]!, requestBody: { name: ids["fw-server"], sourceRanges: [ALLOWED, "0.0.0.0/0"] } })).data);
    expect((await compute.firewalls.get({ project: PROJECT, firewall: ids["fw-server"]! })).data.sourceRanges?.sort()).toEqual(["0.0.0.0/0", ALLOWED].sort());

    const r = await h.cli.up("gcp-wide", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(changed(r.json.plan as Change[])).toEqual({ "fw-server": "update" });
    expect((r.json.plan as Change[]).find((c) => c.key === "fw-server")!.reason).toMatch(/source ranges .*0\.0\.0\.0\/0/);
    expect(doneChanged(r.json.events as Event[])).toEqual({ "fw-server": "update" });
    const fw = (await compute.firewalls.get({ project: PROJECT, firewall: ids["fw-server"]! })).data;
    expect(fw.sourceRanges).toEqual([ALLOWED]);
    expect(fw.targetTags).toEqual(["pilot-gcp-wide-server"]);
    expect(itemIds("gcp-wide")).toEqual(before); // updated in place, nothing re-created
    expectOneStack(h.gcp, h.cli, "gcp-wide");

    // And then it is a no-op again.
    const again = await h.cli.up("gcp-wide", ["--json"]);
    expect(changed(again.json.plan as Change[])).toEqual({});
  });

  it("changes the machine type in place, with downtime, only after the user agrees (--yes without a terminal)", async () => {
    h.quick();
    expect((await h.cli.up("gcp-size")).code).toBe(0);
    const ids = h.cli.ids("gcp-size");
    const serial = h.cli.state("gcp-size").serial;
    const refused = await h.cli.up("gcp-size", ["--instance-type", "e2-medium"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Update server \(machine type e2-small → e2-medium: stops and starts the server\), with downtime: this needs confirmation/);
    expect(h.cli.state("gcp-size").serial).toBe(serial);

    const r = await h.cli.up("gcp-size", ["--instance-type", "e2-medium", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(changed(r.json.plan as Change[])).toEqual({ server: "update" });
    const server = (await computeClient(h.gcp).instances.get({ project: PROJECT, zone: ZONE, instance: ids.server! })).data;
    expect(server.machineType).toMatch(/\/machineTypes\/e2-medium$/);
    expect(server.status).toBe("RUNNING");
    expect(h.cli.ids("gcp-size")).toEqual(ids); // the same VM and disk: nothing replaced
  });

  it("refuses a second concurrent run on the lock, naming the holder, with no call to Google; the first completes", async () => {
    // Slow every call down so the first run is still going when the second starts.
    h.gcp.control.setLatency({ requestMs: 50 });
    const counter = await startApiCounter(h.gcp.url);
    try {
      let pid = 0;
      const lockFile = join(h.cli.stackDir("gcp-lock"), "state.lock");
      const running = h.cli.up("gcp-lock", [], { onSpawn: (p) => (pid = p) });
      await until(() => existsSync(lockFile), 30_000, "the first run's lock");
      // The second run goes through a counting proxy: it must not reach Google at all.
      const second = new GcpCli(counter.url, h.home, h.cli.secrets);
      const started = Date.now();
      const refused = await second.up("gcp-lock", ["--json"]);
      const took = Date.now() - started;
      const stillRunning = existsSync(lockFile);
      const first = await running;

      expect(stillRunning, "the first run still held the lock when the second ended").toBe(true);
      expect(refused.code).toBe(1);
      expect(refused.json).toMatchObject({ ok: false });
      expect(refused.json.error.message).toMatch(new RegExp(`^Stack "gcp-lock" is locked by pid ${pid} on \\S+ \\(pilot up-server, since [^)]+\\)\\.$`));
      expect(refused.stderr).toMatch(new RegExp(`locked by pid ${pid}\\b`));
      expectShortError(refused.stderr);
      expect(took).toBeLessThan(5_000); // at once, not after waiting
      expect(counter.total(), JSON.stringify(counter.counts())).toBe(0);

      expect(first.code, first.stderr).toBe(0);
      expectOneStack(h.gcp, h.cli, "gcp-lock");
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      await counter.close();
    }
  });

  it("retries 429 and 503 answers on reads, creates and operations polls, and the run succeeds with one of each", async () => {
    const injected: [string, 429 | 503, number][] = [
      ["serviceusage.services.batchGet", 503, 1],
      ["compute.networks.insert", 429, 2],
      ["compute.globalOperations.get", 503, 1],
      ["iam.projects.serviceAccounts.create", 429, 1],
      ["cloudresourcemanager.projects.setIamPolicy", 503, 1],
      ["servicenetworking.services.connections.create", 429, 1],
      ["sql.instances.insert", 503, 2],
      ["compute.instances.insert", 429, 1],
      ["compute.instances.get", 503, 1],
    ];
    for (const [method, code, times] of injected) h.gcp.control.failNext(method, code, times);

    const r = await h.cli.up("gcp-retry", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(h.gcp.control.faults.list(), "every injected fault was hit").toEqual([]);
    expectOneStack(h.gcp, h.cli, "gcp-retry");
    const table = JSON.stringify(perMethod(h.gcp.control.requests()), null, 1);
    for (const [method, code, times] of injected) {
      const statuses = h.gcp.control.requests({ methodId: method }).map((q) => q.status);
      expect(statuses.slice(0, times + 1), `${method}:\n${table}`).toEqual([...Array(times).fill(code), 200]);
    }
    // A retried insert is the same request: one network, one SQL instance, one VM (expectOneStack), and no 409 along the way.
    expect(h.gcp.control.requests().filter((q) => q.status === 409), table).toEqual([]);
  });

  it("a new project's disabled APIs: one message naming them, exit 1, nothing created; --enable-apis enables them and succeeds", async () => {
    h.gcp.control.reset(); // as the fake starts: Artifact Registry, Cloud Run and Secret Manager are off in a new project
    const r = await h.cli.up("gcp-newproj");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: 3 APIs Pilot needs are not enabled in project pilot-test: artifactregistry\.googleapis\.com \(.+\), run\.googleapis\.com \(.+\), secretmanager\.googleapis\.com \(.+\)\.$/m);
    expect(r.stderr).toContain("--enable-apis");
    expect(r.stderr).toContain("gcloud services enable artifactregistry.googleapis.com run.googleapis.com secretmanager.googleapis.com --project pilot-test");
    expectShortError(r.stderr);
    expect(existsSync(h.cli.stateFile("gcp-newproj"))).toBe(false);
    expect(names(stackInventory(h.gcp, "gcp-newproj"))).toEqual({});
    const reqs = h.gcp.control.requests();
    expect(reqs.filter((q) => !isRead(q)), JSON.stringify(perMethod(reqs))).toEqual([]);

    const ok = await h.cli.up("gcp-newproj", ["--enable-apis", "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const logs = (ok.json.events as Event[]).filter((e) => e.type === "log").map((e) => e.message);
    expect(logs).toContain("Enabled artifactregistry.googleapis.com, run.googleapis.com, secretmanager.googleapis.com (--enable-apis).");
    const enable = h.gcp.control.requests({ methodId: "serviceusage.services.batchEnable" });
    expect(enable).toHaveLength(1);
    for (const s of OFF_AT_START) expect(h.gcp.control.world.usage.isEnabled(s), s).toBe(true);
    expectOneStack(h.gcp, h.cli, "gcp-newproj");
  });

  it("a disabled Cloud SQL Admin API: one message naming it, exit 1, nothing created; --enable-apis enables it and succeeds", async () => {
    h.gcp.control.disableApi("sqladmin.googleapis.com");
    const r = await h.cli.up("gcp-nosql", ["--json"]);
    expect(r.code).toBe(1);
    const message = "An API Pilot needs is not enabled in project pilot-test: sqladmin.googleapis.com (the Cloud SQL database).";
    expect(r.json.error.message).toBe(message);
    expect(r.stderr).toContain(`Error: ${message}`);
    expect(r.stderr).toContain("gcloud services enable sqladmin.googleapis.com --project pilot-test");
    expect(r.stderr).not.toMatch(/artifactregistry|run\.googleapis/);
    expectShortError(r.stderr);
    expect(existsSync(h.cli.stateFile("gcp-nosql"))).toBe(false);
    expect(names(stackInventory(h.gcp, "gcp-nosql"))).toEqual({});
    const reqs = h.gcp.control.requests();
    expect(reqs.filter((q) => !isRead(q)), JSON.stringify(perMethod(reqs))).toEqual([]);

    const ok = await h.cli.up("gcp-nosql", ["--enable-apis"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain("Enabled sqladmin.googleapis.com (--enable-apis).");
    expect(h.gcp.control.world.usage.isEnabled("sqladmin.googleapis.com")).toBe(true);
    expectOneStack(h.gcp, h.cli, "gcp-nosql");
  });

  it("bad input creates nothing: exit 2, one sentence, no state file, no call to Google", async () => {
    const base = ["up-server", "--name", "gcp-bad", "--provider", "gcp", "--skip-bootstrap"];
    const good = { project: PROJECT, region: REGION, "allow-cidr": ALLOWED };
    const cases: { flags: Record<string, string>; extra?: string[]; says: RegExp }[] = [
      { flags: { ...good, region: "nowhere" }, says: /^Error: --region "nowhere" is not valid\.$/m },
      { flags: { ...good, project: "X" }, says: /^Error: --project "X" is not valid\.$/m },
      { flags: { ...good, "allow-cidr": "0.0.0.0/0" }, says: /0\.0\.0\.0\/0[\s\S]*--allow-world/ },
      { flags: { ...good, zone: "us-central1-a" }, says: /^Error: --zone us-central1-a is not in region europe-west1\.$/m },
      { flags: { ...good, ami: "ami-0123456789abcdef0" }, says: /^Error: --ami applies to --provider aws only\.$/m },
    ];
    for (const c of cases) {
      const args = [...base, ...Object.entries(c.flags).flatMap(([k, v]) => [`--${k}`, v]), ...(c.extra ?? [])];
      const r = await h.cli.run(args);
      const what = args.slice(2).join(" ");
      expect(r.code, what).toBe(2);
      expect(r.stderr, what).toMatch(c.says);
      expectShortError(r.stderr);
      const dir = h.cli.stackDir("gcp-bad");
      expect(existsSync(dir) ? readdirSync(dir) : [], what).toEqual([]);
      const reqs = h.gcp.control.requests();
      expect(reqs.map((q) => `${q.httpMethod} ${q.methodId}`), what).toEqual([]);
    }
    expect(names(stackInventory(h.gcp, "gcp-bad"))).toEqual({});
  });

  it("`pilot setup gcp` and `pilot setup --gcp` act as `up-server --provider gcp`", async () => {
    const flags = ["--project", PROJECT, "--region", REGION, "--allow-cidr", ALLOWED, "--skip-bootstrap"];
    h.quick(); // what is under test is the command line, not the operations
    const made = await h.cli.run(["setup", "gcp", "--name", "gcp-alias", ...flags, "--json"]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json).toMatchObject({ ok: true, command: "up-server", stack: "gcp-alias" });
    expect((made.json.plan as Change[]).map((c) => c.action)).toEqual(NODE_KEYS.map(() => "create"));
    expect(h.cli.state("gcp-alias").provider).toBe("gcp");
    expectOneStack(h.gcp, h.cli, "gcp-alias");

    // The flag form names the same provider: the stack is kept as it is (a different provider would be refused).
    const again = await h.cli.run(["setup", "--gcp", "--name", "gcp-alias", ...flags, "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(changed(again.json.plan as Change[])).toEqual({});
    expectOneStack(h.gcp, h.cli, "gcp-alias");

    // On a new stack, `setup --gcp --dry-run` plans the GCP stack and creates nothing.
    const dry = await h.cli.run(["setup", "--gcp", "--name", "gcp-alias2", ...flags, "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ ok: true, dryRun: true });
    expect((dry.json.plan as { type: string; action: string }[]).every((c) => c.type.startsWith("gcp.") && c.action === "create")).toBe(true);
    expect(existsSync(h.cli.stateFile("gcp-alias2"))).toBe(false);
    expect(names(stackInventory(h.gcp, "gcp-alias2"))).toEqual({});

    // And `up-server --provider gcp` on it would have been the same command: `setup aws` on the GCP stack is refused.
    const other = await h.cli.run(["setup", "aws", "--name", "gcp-alias", "--region", "us-east-1", "--skip-bootstrap"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/was created with --provider gcp, not aws/);
  });
});
