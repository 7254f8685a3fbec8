/**
 * The GCP fake's own tests: Google's real `googleapis` clients against
 * test/fakes/gcp, proving the fake validates like Google (from the discovery
 * documents), answers in Google's error format, and behaves like Google
 * where Pilot's provider depends on it (operations, requestId, in-use
 * refusals, Service Networking's lingering refusal, disabled APIs, faults,
 * guest attributes).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { cloudresourcemanager_v1 } from "googleapis/build/src/apis/cloudresourcemanager/v1.js";
import { compute_v1 } from "googleapis/build/src/apis/compute/v1.js";
import { iam_v1 } from "googleapis/build/src/apis/iam/v1.js";
import { servicenetworking_v1 } from "googleapis/build/src/apis/servicenetworking/v1.js";
import { serviceusage_v1 } from "googleapis/build/src/apis/serviceusage/v1.js";
import { sqladmin_v1 } from "googleapis/build/src/apis/sqladmin/v1.js";
import { vpcaccess_v1 } from "googleapis/build/src/apis/vpcaccess/v1.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { discoveryDir } from "../../fakes/gcp/discovery.js";
import { DEFAULT_IMAGE_NAME, startFakeGcp, type FakeGcp } from "../../fakes/gcp/index.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const REGION = "europe-west1";
const ZONE = "europe-west1-b";

let gcp: FakeGcp;
let P: string;
let compute: compute_v1.Compute;
let sql: sqladmin_v1.Sqladmin;
let sn: servicenetworking_v1.Servicenetworking;
let su: serviceusage_v1.Serviceusage;
let iam: iam_v1.Iam;
let crm: cloudresourcemanager_v1.Cloudresourcemanager;
let vpc: vpcaccess_v1.Vpcaccess;

/** The Google error body of a failed call (fails the test if the call succeeded). */
async function googleError(p: Promise<unknown>): Promise<{ status: number; error: { code: number; message: string; status: string; errors: { reason: string; domain: string; message: string }[]; details?: Record<string, unknown>[] } }> {
  try {
    await p;
  } catch (e) {
    const res = (e as { response?: { status: number; data: { error: never } } }).response;
    if (!res) throw e;
    return { status: res.status, error: res.data.error };
  }
  throw new Error("expected the call to fail");
}

function expectGoogleShape(err: Awaited<ReturnType<typeof googleError>>, code: number, status: string, reason: string): void {
  expect(err.status).toBe(code);
  expect(err.error.code).toBe(code);
  expect(err.error.status).toBe(status);
  expect(err.error.errors[0]).toMatchObject({ reason, domain: expect.any(String), message: err.error.message });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` says so (the fake's operations finish after tens of ms here). */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await sleep(10);
  }
}

async function waitGlobal(op: compute_v1.Schema$Operation): Promise<compute_v1.Schema$Operation> {
  return (await compute.globalOperations.wait({ project: P, operation: op.name! })).data;
}
async function waitRegion(op: compute_v1.Schema$Operation): Promise<compute_v1.Schema$Operation> {
  return (await compute.regionOperations.wait({ project: P, region: REGION, operation: op.name! })).data;
}
async function waitZone(op: compute_v1.Schema$Operation): Promise<compute_v1.Schema$Operation> {
  return (await compute.zoneOperations.wait({ project: P, zone: ZONE, operation: op.name! })).data;
}
async function waitSql(op: sqladmin_v1.Schema$Operation): Promise<sqladmin_v1.Schema$Operation> {
  return until(async () => (await sql.operations.get({ project: P, operation: op.name! })).data, (o) => o.status === "DONE");
}
async function waitSn(op: servicenetworking_v1.Schema$Operation): Promise<servicenetworking_v1.Schema$Operation> {
  return until(async () => (await sn.operations.get({ name: op.name! })).data, (o) => Boolean(o.done));
}

async function network(name: string): Promise<void> {
  const op = (await compute.networks.insert({ project: P, requestBody: { name, autoCreateSubnetworks: false } })).data;
  expect((await waitGlobal(op)).error).toBeUndefined();
}
async function subnetwork(name: string, net: string, cidr: string): Promise<void> {
  const op = (await compute.subnetworks.insert({ project: P, region: REGION, requestBody: { name, network: `global/networks/${net}`, ipCidrRange: cidr } })).data;
  expect((await waitRegion(op)).error).toBeUndefined();
}

beforeAll(async () => {
  gcp = await startFakeGcp({ latencyMs: 20, project: "pilot-it" });
  P = gcp.project;
  const rootUrl = gcp.url;
  compute = new compute_v1.Compute({ rootUrl });
  sql = new sqladmin_v1.Sqladmin({ rootUrl });
  sn = new servicenetworking_v1.Servicenetworking({ rootUrl });
  su = new serviceusage_v1.Serviceusage({ rootUrl });
  iam = new iam_v1.Iam({ rootUrl });
  crm = new cloudresourcemanager_v1.Cloudresourcemanager({ rootUrl });
  vpc = new vpcaccess_v1.Vpcaccess({ rootUrl });
});

afterAll(async () => {
  await gcp?.close();
});

beforeEach(() => {
  gcp.control.reset();
});

describe("validation against Google's discovery documents", () => {
  it("refuses an unknown body field, naming it, in Google's error format", async () => {
    const err = await googleError(compute.networks.insert({ project: P, requestBody: { name: "n", autoCreateSubnetworks: false, foo: 1 } as compute_v1.Schema$Network }));
    expectGoogleShape(err, 400, "INVALID_ARGUMENT", "invalid");
    expect(err.error.message).toBe(`Invalid JSON payload received. Unknown name "foo" at 'network': Cannot find field.`);
  });

  it("refuses an unknown field deep inside the body", async () => {
    const err = await googleError(
      compute.firewalls.insert({ project: P, requestBody: { name: "f", allowed: [{ IPProtocol: "tcp", port: ["22"] }] } as unknown as compute_v1.Schema$Firewall }),
    );
    expect(err.error.message).toContain(`Unknown name "port" at 'firewall.allowed[0]'`);
  });

  it("refuses a wrong JSON type", async () => {
    const err = await googleError(compute.networks.insert({ project: P, requestBody: { name: "n", autoCreateSubnetworks: "yes" as unknown as boolean } }));
    expectGoogleShape(err, 400, "INVALID_ARGUMENT", "invalid");
    expect(err.error.message).toBe(`Invalid value at 'network.auto_create_subnetworks' (TYPE_BOOL), "yes"`);
    const mtu = await googleError(compute.networks.insert({ project: P, requestBody: { name: "n", mtu: "1460" as unknown as number } }));
    expect(mtu.error.message).toContain("'network.mtu' (TYPE_INT32)");
  });

  it("accepts int64 as a number or a decimal string, and refuses other strings", async () => {
    await network("net");
    await subnetwork("sub", "net", "10.0.0.0/24");
    const body = (size: unknown): compute_v1.Schema$Instance => ({
      name: "vm",
      machineType: `zones/${ZONE}/machineTypes/e2-small`,
      disks: [{ boot: true, initializeParams: { sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64", diskSizeGb: size as string } }],
      networkInterfaces: [{ subnetwork: `regions/${REGION}/subnetworks/sub` }],
    });
    const err = await googleError(compute.instances.insert({ project: P, zone: ZONE, requestBody: body("twenty") }));
    expect(err.error.message).toContain("'instance.disks[0].initialize_params.disk_size_gb' (TYPE_INT64)");
    const ok = await compute.instances.insert({ project: P, zone: ZONE, requestBody: body(20) });
    expect(ok.data.status).toBe("RUNNING");
  });

  it("refuses an enum value not in the enum", async () => {
    const err = await googleError(
      compute.firewalls.insert({ project: P, requestBody: { name: "f", direction: "SIDEWAYS", allowed: [{ IPProtocol: "tcp" }] } }),
    );
    expectGoogleShape(err, 400, "INVALID_ARGUMENT", "invalid");
    expect(err.error.message).toMatch(/^Invalid value at 'firewall.direction' \(type\.googleapis\.com\/.*\), "SIDEWAYS"$/);
  });

  it("refuses an unknown or mistyped query parameter", async () => {
    const unknown = await googleError(compute.networks.list({ project: P, bogus: "1" } as compute_v1.Params$Resource$Networks$List));
    expectGoogleShape(unknown, 400, "INVALID_ARGUMENT", "invalid");
    expect(unknown.error.message).toBe(
      `Invalid JSON payload received. Unknown name "bogus": Cannot bind query parameter. Field 'bogus' could not be found in request message.`,
    );
    const typed = await googleError(compute.networks.list({ project: P, maxResults: "many" as unknown as number }, { retry: false }));
    expect(typed.error.message).toBe(`Invalid value at 'max_results' (TYPE_UINT32), "many"`);
    // The top-level parameters every API takes are fine.
    await compute.networks.list({ project: P, prettyPrint: false, fields: "items/name" });
  });

  it("refuses a missing required field (compute's annotations.required)", async () => {
    const err = await googleError(compute.networks.insert({ project: P, requestBody: { autoCreateSubnetworks: false } }));
    expectGoogleShape(err, 400, "INVALID_ARGUMENT", "required");
    expect(err.error.message).toBe("Required field 'resource.name' not specified");
  });

  it("refuses a missing required query parameter and a path value outside its pattern", async () => {
    const missing = await fetch(`${gcp.url}/compute/v1/projects/${P}/zones/${ZONE}/instances/vm/addAccessConfig`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe("Required field 'networkInterface' not specified");
    const badName = await googleError(compute.networks.get({ project: P, network: "Bad_Name" }));
    expect(badName.error.message).toContain("Invalid value for field 'network': 'Bad_Name'. Must be a match of regex");
  });

  it("checks Cloud SQL's plain JSON against its schema (a protobuf wrapper is not a boolean)", async () => {
    const err = await googleError(
      sql.instances.insert({
        project: P,
        requestBody: { name: "db", databaseVersion: "POSTGRES_16", settings: { tier: "db-perf-optimized-N-2", ipConfiguration: { ipv4Enabled: { value: false } as unknown as boolean } } },
      }),
    );
    expect(err.error.message).toBe(
      `Invalid JSON payload received. Unknown name "ipv4Enabled" at 'database_instance.settings.ip_configuration': Starting an object on a scalar field.`,
    );
  });

  it("accepts output-only fields a client echoes back (Google ignores them)", async () => {
    const op = (await compute.networks.insert({ project: P, requestBody: { name: "n", autoCreateSubnetworks: false, id: "123", selfLink: "x", creationTimestamp: "y", kind: "compute#network" } })).data;
    await waitGlobal(op);
    const net = (await compute.networks.get({ project: P, network: "n" })).data;
    expect(net.id).not.toBe("123");
    expect(net.selfLink).toBe(`https://www.googleapis.com/compute/v1/projects/${P}/global/networks/n`);
  });

  it("answers an unknown path with a 404 in Google's format", async () => {
    const res = await fetch(`${gcp.url}/compute/v1/projects/${P}/global/nothingHere`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: number; status: string; errors: { reason: string }[] } };
    expect(body.error).toMatchObject({ code: 404, status: "NOT_FOUND", errors: [{ reason: "notFound" }] });
  });
});

describe("compute operations", () => {
  it("returns a RUNNING operation that becomes DONE, and the resource exists from the insert", async () => {
    const op = (await compute.networks.insert({ project: P, requestBody: { name: "net", autoCreateSubnetworks: false } })).data;
    expect(op).toMatchObject({ kind: "compute#operation", status: "RUNNING", operationType: "insert", targetLink: expect.stringContaining("/global/networks/net") });
    expect((await compute.networks.get({ project: P, network: "net" })).data.name).toBe("net");
    const done = await until(async () => (await compute.globalOperations.get({ project: P, operation: op.name! })).data, (o) => o.status === "DONE");
    expect(done.error).toBeUndefined();
    expect(done.targetId).toBe((await compute.networks.get({ project: P, network: "net" })).data.id);
  });

  it("makes a retried insert with the same requestId return the same operation and create once", async () => {
    const requestId = randomUUID();
    const first = (await compute.networks.insert({ project: P, requestId, requestBody: { name: "net", autoCreateSubnetworks: false } })).data;
    await waitGlobal(first);
    const again = (await compute.networks.insert({ project: P, requestId, requestBody: { name: "net", autoCreateSubnetworks: false } })).data;
    expect(again.name).toBe(first.name);
    expect(again.status).toBe("DONE");
    expect(gcp.control.inventory({ collection: "networks" })).toHaveLength(1);
    const bad = await googleError(compute.networks.insert({ project: P, requestId: "not-a-uuid", requestBody: { name: "net2" } }));
    expect(bad.error.message).toContain("'requestId'");
  });

  it("answers a duplicate name with 409 alreadyExists", async () => {
    await network("net");
    const err = await googleError(compute.networks.insert({ project: P, requestBody: { name: "net", autoCreateSubnetworks: false } }));
    expectGoogleShape(err, 409, "ALREADY_EXISTS", "alreadyExists");
    expect(err.error.message).toBe(`The resource 'projects/${P}/global/networks/net' already exists`);
  });

  it("refuses to build on a resource whose insert has not finished", async () => {
    gcp.control.setLatency({ overrides: { "compute.networks": 60_000 } }); // reset() restores it
    await compute.networks.insert({ project: P, requestBody: { name: "net", autoCreateSubnetworks: false } });
    const err = await googleError(
      compute.subnetworks.insert({ project: P, region: REGION, requestBody: { name: "sub", network: "global/networks/net", ipCidrRange: "10.0.0.0/24" } }),
    );
    expect(err.error.errors[0].reason).toBe("resourceNotReady");
  });

  it("refuses to delete what is in use, until the user is gone", async () => {
    await network("net");
    await subnetwork("sub", "net", "10.0.0.0/24");
    const err = await googleError(compute.networks.delete({ project: P, network: "net" }));
    expectGoogleShape(err, 400, "INVALID_ARGUMENT", "resourceInUseByAnotherResource");
    expect(err.error.message).toBe(`The network resource 'projects/${P}/global/networks/net' is already being used by 'projects/${P}/regions/${REGION}/subnetworks/sub'`);
    await waitRegion((await compute.subnetworks.delete({ project: P, region: REGION, subnetwork: "sub" })).data);
    await waitGlobal((await compute.networks.delete({ project: P, network: "net" })).data);
    expect(gcp.control.inventory()).toEqual([]);
  });

  it("serves an instance: RUNNING when its operation is done, IP from the subnetwork, static natIP kept and in use", async () => {
    gcp.control.setLatency({ overrides: { "compute.instances.insert": 300 } });
    await network("net");
    await subnetwork("sub", "net", "10.8.0.0/24");
    const addrOp = (await compute.addresses.insert({ project: P, region: REGION, requestBody: { name: "ip", labels: { "pilot-stack": "it" } } })).data;
    await waitRegion(addrOp);
    const addr = (await compute.addresses.get({ project: P, region: REGION, address: "ip" })).data;
    const op = (
      await compute.instances.insert({
        project: P,
        zone: ZONE,
        requestId: randomUUID(),
        requestBody: {
          name: "vm",
          machineType: `zones/${ZONE}/machineTypes/e2-small`,
          labels: { "pilot-stack": "it" },
          disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64" } }],
          networkInterfaces: [{ subnetwork: `regions/${REGION}/subnetworks/sub`, accessConfigs: [{ natIP: addr.address! }] }],
          metadata: { items: [{ key: "enable-guest-attributes", value: "TRUE" }] },
        },
      })
    ).data;
    const early = (await compute.instances.get({ project: P, zone: ZONE, instance: "vm" })).data;
    expect(["PROVISIONING", "STAGING"]).toContain(early.status);
    await waitZone(op);
    const vm = (await compute.instances.get({ project: P, zone: ZONE, instance: "vm" })).data;
    expect(vm.status).toBe("RUNNING");
    expect(vm.networkInterfaces![0].networkIP).toBe("10.8.0.2");
    expect(vm.networkInterfaces![0].accessConfigs![0].natIP).toBe(addr.address);
    expect((await compute.addresses.get({ project: P, region: REGION, address: "ip" })).data).toMatchObject({ status: "IN_USE", users: [vm.selfLink] });
    const inUse = await googleError(compute.addresses.delete({ project: P, region: REGION, address: "ip" }));
    expect(inUse.error.errors[0].reason).toBe("resourceInUseByAnotherResource");

    // A newer image in the family does not change the running server's disk.
    const disk = (await compute.disks.get({ project: P, zone: ZONE, disk: "vm" })).data;
    expect(disk.sourceImage).toContain(DEFAULT_IMAGE_NAME);
    gcp.control.setNewestImage("ubuntu-2404-noble-amd64-v20261201");
    expect((await compute.images.getFromFamily({ project: "ubuntu-os-cloud", family: "ubuntu-2404-lts-amd64" })).data.name).toBe("ubuntu-2404-noble-amd64-v20261201");
    expect((await compute.disks.get({ project: P, zone: ZONE, disk: "vm" })).data.sourceImage).toContain(DEFAULT_IMAGE_NAME);

    expect(gcp.control.inventory({ labels: { "pilot-stack": "it" } }).map((i) => i.name).sort()).toEqual(["ip", "vm"]);
    await waitZone((await compute.instances.delete({ project: P, zone: ZONE, instance: "vm" })).data);
    expect((await compute.addresses.get({ project: P, region: REGION, address: "ip" })).data.status).toBe("RESERVED");
    expect(gcp.control.inventory({ collection: "disks" })).toEqual([]);
  });

  it("changes an instance in place: tags (fingerprinted), its static IP, suspend and resume", async () => {
    await network("net");
    await subnetwork("sub", "net", "10.0.0.0/24");
    for (const name of ["ip1", "ip2"]) await waitRegion((await compute.addresses.insert({ project: P, region: REGION, requestBody: { name } })).data);
    const ip1 = (await compute.addresses.get({ project: P, region: REGION, address: "ip1" })).data.address!;
    const ip2 = (await compute.addresses.get({ project: P, region: REGION, address: "ip2" })).data.address!;
    await waitZone(
      (
        await compute.instances.insert({
          project: P,
          zone: ZONE,
          requestBody: {
            name: "vm",
            machineType: `zones/${ZONE}/machineTypes/e2-small`,
            disks: [{ boot: true, initializeParams: { sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64" } }],
            networkInterfaces: [{ subnetwork: `regions/${REGION}/subnetworks/sub`, accessConfigs: [{ natIP: ip1 }] }],
          },
        })
      ).data,
    );
    let vm = (await compute.instances.get({ project: P, zone: ZONE, instance: "vm" })).data;
    expect((await googleError(compute.instances.setTags({ project: P, zone: ZONE, instance: "vm", requestBody: { items: ["pilot"], fingerprint: "AAAAAAAAAAA=" } }))).status).toBe(412);
    await waitZone((await compute.instances.setTags({ project: P, zone: ZONE, instance: "vm", requestBody: { items: ["pilot"], fingerprint: vm.tags!.fingerprint } })).data);
    await waitZone((await compute.instances.deleteAccessConfig({ project: P, zone: ZONE, instance: "vm", networkInterface: "nic0", accessConfig: "External NAT" })).data);
    await waitZone((await compute.instances.addAccessConfig({ project: P, zone: ZONE, instance: "vm", networkInterface: "nic0", requestBody: { name: "External NAT", natIP: ip2 } })).data);
    vm = (await compute.instances.get({ project: P, zone: ZONE, instance: "vm" })).data;
    expect(vm.tags?.items).toEqual(["pilot"]);
    expect(vm.networkInterfaces![0].accessConfigs).toMatchObject([{ natIP: ip2 }]);
    expect((await compute.addresses.get({ project: P, region: REGION, address: "ip1" })).data.status).toBe("RESERVED");
    expect((await compute.addresses.get({ project: P, region: REGION, address: "ip2" })).data.status).toBe("IN_USE");
    expect((await googleError(compute.instances.resume({ project: P, zone: ZONE, instance: "vm" }))).status).toBe(400);
    await waitZone((await compute.instances.suspend({ project: P, zone: ZONE, instance: "vm" })).data);
    expect((await compute.instances.get({ project: P, zone: ZONE, instance: "vm" })).data.status).toBe("SUSPENDED");
    await waitZone((await compute.instances.resume({ project: P, zone: ZONE, instance: "vm" })).data);
    expect((await compute.instances.get({ project: P, zone: ZONE, instance: "vm" })).data.status).toBe("RUNNING");
  });

  it("checks setLabels' fingerprint", async () => {
    await waitGlobal((await compute.globalAddresses.insert({ project: P, requestBody: { name: "ga" } })).data);
    const ga = (await compute.globalAddresses.get({ project: P, address: "ga" })).data;
    const stale = await googleError(compute.globalAddresses.setLabels({ project: P, resource: "ga", requestBody: { labels: { a: "b" }, labelFingerprint: "AAAAAAAAAAA=" } }));
    expect(stale.status).toBe(412);
    await waitGlobal((await compute.globalAddresses.setLabels({ project: P, resource: "ga", requestBody: { labels: { a: "b" }, labelFingerprint: ga.labelFingerprint } })).data);
    expect((await compute.globalAddresses.get({ project: P, address: "ga" })).data.labels).toEqual({ a: "b" });
  });
});

describe("guest attributes", () => {
  async function vm(name: string, guestAttributes: boolean): Promise<void> {
    await waitZone(
      (
        await compute.instances.insert({
          project: P,
          zone: ZONE,
          requestBody: {
            name,
            machineType: `zones/${ZONE}/machineTypes/e2-small`,
            disks: [{ boot: true, initializeParams: { sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64" } }],
            networkInterfaces: [{ subnetwork: `regions/${REGION}/subnetworks/sub` }],
            metadata: guestAttributes ? { items: [{ key: "enable-guest-attributes", value: "TRUE" }] } : undefined,
          },
        })
      ).data,
    );
  }

  it("serves host keys set through control, 404 before any, 400 when not enabled", async () => {
    await network("net");
    await subnetwork("sub", "net", "10.0.0.0/24");
    await vm("vm", true);
    await vm("plain", false);
    const none = await googleError(compute.instances.getGuestAttributes({ project: P, zone: ZONE, instance: "vm", queryPath: "hostkeys/" }));
    expectGoogleShape(none, 404, "NOT_FOUND", "notFound");
    gcp.control.setGuestHostKeys({ "ssh-ed25519": "AAAAC3NzaC1lZDI1NTE5AAAAIFake" }, "vm");
    const got = (await compute.instances.getGuestAttributes({ project: P, zone: ZONE, instance: "vm", queryPath: "hostkeys/" })).data;
    expect(got).toMatchObject({ queryPath: "hostkeys/", queryValue: { items: [{ namespace: "hostkeys", key: "ssh-ed25519", value: "AAAAC3NzaC1lZDI1NTE5AAAAIFake" }] } });
    const disabled = await googleError(compute.instances.getGuestAttributes({ project: P, zone: ZONE, instance: "plain", queryPath: "hostkeys/" }));
    expect(disabled.status).toBe(400);
  });
});

describe("Service Networking and Cloud SQL private IP", () => {
  it("refuses to delete a connection while Cloud SQL uses it, then for the lingering attempts, then deletes it", async () => {
    const number = gcp.projectNumber;
    await network("net");
    await waitGlobal(
      (await compute.globalAddresses.insert({ project: P, requestBody: { name: "psa", purpose: "VPC_PEERING", addressType: "INTERNAL", prefixLength: 20, network: "global/networks/net" } })).data,
    );
    const sqlBody: sqladmin_v1.Schema$DatabaseInstance = {
      name: "db",
      databaseVersion: "POSTGRES_16",
      region: REGION,
      settings: { tier: "db-f1-micro", edition: "ENTERPRISE", ipConfiguration: { ipv4Enabled: false, privateNetwork: `projects/${P}/global/networks/net` }, userLabels: { "pilot-stack": "it" } },
    };
    const noConnection = await googleError(sql.instances.insert({ project: P, requestBody: sqlBody }));
    expect(noConnection.error.message).toContain("network doesn't have at least 1 private services connection");

    const byId = await googleError(sn.services.connections.create({ parent: "services/servicenetworking.googleapis.com", requestBody: { network: `projects/${P}/global/networks/net`, reservedPeeringRanges: ["psa"] } }));
    expect(byId.status).toBe(400);
    const create = (await sn.services.connections.create({ parent: "services/servicenetworking.googleapis.com", requestBody: { network: `projects/${number}/global/networks/net`, reservedPeeringRanges: ["psa"] } })).data;
    expect(create.name).toMatch(/^operations\//);
    expect(create.done).toBeFalsy();
    expect((await waitSn(create)).response).toMatchObject({ peering: "servicenetworking-googleapis-com", reservedPeeringRanges: ["psa"] });
    expect((await compute.networks.get({ project: P, network: "net" })).data.peerings).toMatchObject([{ name: "servicenetworking-googleapis-com", state: "ACTIVE" }]);
    const listed = (await sn.services.connections.list({ parent: "services/servicenetworking.googleapis.com", network: `projects/${number}/global/networks/net` })).data;
    expect(listed.connections).toHaveLength(1);
    expect((await googleError(compute.globalAddresses.delete({ project: P, address: "psa" }))).error.errors[0].reason).toBe("resourceInUseByAnotherResource");

    gcp.control.setLatency({ overrides: { "sql.instances.insert": 300 } });
    const insert = (await sql.instances.insert({ project: P, requestBody: sqlBody })).data;
    expect(insert).toMatchObject({ kind: "sql#operation", operationType: "CREATE", targetId: "db", targetProject: P });
    expect((await sql.instances.get({ project: P, instance: "db" })).data.state).toBe("PENDING_CREATE");
    await waitSql(insert);
    const db = (await sql.instances.get({ project: P, instance: "db" })).data;
    expect(db).toMatchObject({ state: "RUNNABLE", connectionName: `${P}:${REGION}:db`, ipAddresses: [{ type: "PRIVATE", ipAddress: expect.stringMatching(/^10\./) }] });
    expect(db.serviceAccountEmailAddress).toMatch(/@gcp-sa-cloud-sql\.iam\.gserviceaccount\.com$/);

    const del = { name: "services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com", requestBody: { consumerNetwork: `projects/${number}/global/networks/net` } };
    const refused = await waitSn((await sn.services.connections.deleteConnection(del)).data);
    expect(refused.error).toEqual({ code: 9, message: "Failed to delete connection; Producer services (e.g. CloudSQL, Cloud Memstore, etc.) are still using this connection." });

    gcp.control.refuseConnectionDelete(1);
    await waitSql((await sql.instances.delete({ project: P, instance: "db" })).data);
    expect((await googleError(sql.instances.get({ project: P, instance: "db" }))).status).toBe(404);
    expect((await waitSn((await sn.services.connections.deleteConnection(del)).data)).error?.code).toBe(9);
    const ok = await waitSn((await sn.services.connections.deleteConnection(del)).data);
    expect(ok.error).toBeUndefined();
    expect((await compute.networks.get({ project: P, network: "net" })).data.peerings).toBeUndefined();

    // A deleted Cloud SQL name cannot be reused for a week.
    const reuse = await googleError(sql.instances.insert({ project: P, requestBody: { ...sqlBody, settings: { ...sqlBody.settings, ipConfiguration: { ipv4Enabled: true } } } }));
    expect(reuse.status).toBe(409);
    expect(reuse.error.message).toContain("until one week from the deletion date");
  });

  it("can refuse the delete on the call itself (refusal mode 'immediate')", async () => {
    await network("net");
    await waitGlobal((await compute.globalAddresses.insert({ project: P, requestBody: { name: "psa", purpose: "VPC_PEERING", addressType: "INTERNAL", prefixLength: 24, network: "global/networks/net" } })).data);
    const network_ = `projects/${gcp.projectNumber}/global/networks/net`;
    await waitSn((await sn.services.connections.create({ parent: "services/servicenetworking.googleapis.com", requestBody: { network: network_, reservedPeeringRanges: ["psa"] } })).data);
    gcp.control.refuseConnectionDelete(1, "immediate");
    const err = await googleError(
      sn.services.connections.deleteConnection({ name: "services/servicenetworking.googleapis.com/connections/servicenetworking-googleapis-com", requestBody: { consumerNetwork: network_ } }),
    );
    expectGoogleShape(err, 400, "FAILED_PRECONDITION", "failedPrecondition");
  });
});

describe("disabled APIs and Service Usage", () => {
  it("answers every call to a disabled API with 403 SERVICE_DISABLED, until batchEnable", async () => {
    gcp.control.disableApi("sqladmin.googleapis.com");
    const err = await googleError(sql.instances.list({ project: P }));
    expectGoogleShape(err, 403, "PERMISSION_DENIED", "accessNotConfigured");
    expect(err.error.message).toMatch(new RegExp(`^Cloud SQL Admin API has not been used in project ${gcp.projectNumber} before or it is disabled`));
    expect(err.error.details?.[0]).toMatchObject({
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "SERVICE_DISABLED",
      domain: "googleapis.com",
      metadata: { service: "sqladmin.googleapis.com", consumer: `projects/${gcp.projectNumber}` },
    });
    const states = (await su.services.batchGet({ parent: `projects/${P}`, names: [`projects/${P}/services/sqladmin.googleapis.com`, `projects/${P}/services/compute.googleapis.com`] })).data;
    expect(states.services?.map((s) => [s.config?.name, s.state])).toEqual([
      ["sqladmin.googleapis.com", "DISABLED"],
      ["compute.googleapis.com", "ENABLED"],
    ]);
    const op = (await su.services.batchEnable({ parent: `projects/${P}`, requestBody: { serviceIds: ["sqladmin.googleapis.com"] } })).data;
    // serviceusage and servicenetworking share GET /v1/operations/{id}: the fake routes by who made it.
    const done = await until(async () => (await su.operations.get({ name: op.name! })).data, (o) => Boolean(o.done));
    expect(done.error).toBeUndefined();
    expect((await sql.instances.list({ project: P })).status).toBe(200);
  });
});

describe("faults", () => {
  it("injects 429 and 503 in Google's format, then lets calls through", async () => {
    gcp.control.failNext("compute.networks.insert", 429);
    const quota = await googleError(compute.networks.insert({ project: P, requestBody: { name: "n", autoCreateSubnetworks: false } }));
    expectGoogleShape(quota, 429, "RESOURCE_EXHAUSTED", "rateLimitExceeded");
    gcp.control.failNext("compute.networks.*", 503);
    const down = await googleError(compute.networks.insert({ project: P, requestBody: { name: "n", autoCreateSubnetworks: false } }));
    expectGoogleShape(down, 503, "UNAVAILABLE", "backendError");
    await network("n");
    expect(gcp.control.requests({ methodId: "compute.networks.insert" }).map((r) => r.status)).toEqual([429, 503, 200]);
  });

  it("lets the googleapis client's own retry absorb a 503 on a GET (and logs both calls)", async () => {
    await network("n");
    gcp.control.clearRequests();
    gcp.control.failNext("compute.networks.get", 503);
    expect((await compute.networks.get({ project: P, network: "n" })).data.name).toBe("n");
    expect(gcp.control.requests({ methodId: "compute.networks.get" }).map((r) => r.status)).toEqual([503, 200]);
  });

  it("injects SERVICE_DISABLED and failed operations", async () => {
    gcp.control.faults.add({ method: "iam.projects.serviceAccounts.create", error: "SERVICE_DISABLED" });
    const err = await googleError(iam.projects.serviceAccounts.create({ name: `projects/${P}`, requestBody: { accountId: "pilot-runner" } }));
    expect(err.error.details?.[0]).toMatchObject({ reason: "SERVICE_DISABLED", metadata: { service: "iam.googleapis.com" } });
    gcp.control.faults.add({ method: "compute.networks.insert", failOperation: { code: "QUOTA_EXCEEDED", message: "Quota 'NETWORKS' exceeded.", httpStatus: 403 } });
    const op = await waitGlobal((await compute.networks.insert({ project: P, requestBody: { name: "n", autoCreateSubnetworks: false } })).data);
    expect(op).toMatchObject({ status: "DONE", error: { errors: [{ code: "QUOTA_EXCEEDED" }] }, httpErrorStatusCode: 403 });
    expect(gcp.control.inventory()).toEqual([]);
  });
});

describe("IAM, Resource Manager, VPC Access", () => {
  it("creates service accounts (409 on a duplicate) and guards IAM policy read-modify-write with the etag", async () => {
    const sa = (await iam.projects.serviceAccounts.create({ name: `projects/${P}`, requestBody: { accountId: "pilot-runner", serviceAccount: { displayName: "runner" } } })).data;
    expect(sa.email).toBe(`pilot-runner@${P}.iam.gserviceaccount.com`);
    expect((await googleError(iam.projects.serviceAccounts.create({ name: `projects/${P}`, requestBody: { accountId: "pilot-runner" } }))).status).toBe(409);
    expect((await iam.projects.serviceAccounts.get({ name: `projects/-/serviceAccounts/${sa.uniqueId}` })).data.email).toBe(sa.email);
    await iam.projects.serviceAccounts.disable({ name: sa.name!, requestBody: {} });
    expect((await iam.projects.serviceAccounts.get({ name: sa.name! })).data.disabled).toBe(true);
    await iam.projects.serviceAccounts.enable({ name: sa.name!, requestBody: {} });
    expect((await iam.projects.serviceAccounts.get({ name: sa.name! })).data.disabled).toBeUndefined();

    const project = (await crm.projects.get({ projectId: P })).data;
    expect(project).toMatchObject({ projectId: P, projectNumber: gcp.projectNumber, lifecycleState: "ACTIVE" });
    const policy = (await crm.projects.getIamPolicy({ resource: P, requestBody: {} })).data;
    expect(policy.bindings).toEqual([{ role: "roles/owner", members: ["user:owner@example.com"] }]);
    const bindings = [...policy.bindings!, { role: "roles/logging.logWriter", members: [`serviceAccount:${sa.email}`] }];
    const set = (await crm.projects.setIamPolicy({ resource: P, requestBody: { policy: { ...policy, bindings } } })).data;
    expect(set.etag).not.toBe(policy.etag);
    const stale = await googleError(crm.projects.setIamPolicy({ resource: P, requestBody: { policy: { ...policy, bindings } } }));
    expectGoogleShape(stale, 409, "ABORTED", "aborted");
  });

  it("creates a VPC connector that keeps its network in use", async () => {
    await network("net");
    const bad = await googleError(vpc.projects.locations.connectors.create({ parent: `projects/${P}/locations/${REGION}`, connectorId: "Bad", requestBody: { network: "net", ipCidrRange: "10.8.0.0/28" } }));
    expect(bad.status).toBe(400);
    const op = (await vpc.projects.locations.connectors.create({ parent: `projects/${P}/locations/${REGION}`, connectorId: "conn", requestBody: { network: "net", ipCidrRange: "10.8.0.0/28" } })).data;
    expect(op.name).toMatch(new RegExp(`^projects/${P}/locations/${REGION}/operations/`));
    await until(async () => (await vpc.projects.locations.operations.get({ name: op.name! })).data, (o) => Boolean(o.done));
    expect((await vpc.projects.locations.connectors.get({ name: `projects/${P}/locations/${REGION}/connectors/conn` })).data.state).toBe("READY");
    expect((await googleError(compute.networks.delete({ project: P, network: "net" }))).error.errors[0].reason).toBe("resourceInUseByAnotherResource");
  });
});

describe("control over HTTP and the command line", () => {
  it("drives faults, the request log, the inventory and reset through /__fake", async () => {
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${gcp.url}/__fake/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post("faults", { method: "compute.networks.insert", error: 429 })).status).toBe(200);
    expect((await googleError(compute.networks.insert({ project: P, requestBody: { name: "n", autoCreateSubnetworks: false } }))).status).toBe(429);
    await network("n");
    const log = (await (await fetch(`${gcp.url}/__fake/requests?methodId=compute.networks.insert`)).json()) as { requests: { status: number; resource: string }[] };
    expect(log.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(log.requests[0].resource).toBe(`projects/${P}/global/networks`);
    const inv = (await (await fetch(`${gcp.url}/__fake/inventory?collection=networks`)).json()) as { resources: { name: string }[] };
    expect(inv.resources.map((r) => r.name)).toEqual(["n"]);
    const put = await fetch(`${gcp.url}/__fake/guest-attributes`, { method: "PUT", body: JSON.stringify({ keys: { "ssh-ed25519": "AAAA" } }) });
    expect(put.status).toBe(200);
    expect((await post("reset", {})).status).toBe(200);
    expect(gcp.control.inventory()).toEqual([]);
  });

  it("runs on its own with `npm run fake:gcp` and prints its URL", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/fakes/gcp/main.ts", "--port", "0", "--latency", "5"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        createInterface({ input: child.stdout! }).once("line", resolveUrl);
        child.once("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = (await (await fetch(`${url}/__fake/health`)).json()) as { ok: boolean; project: string };
      expect(health).toMatchObject({ ok: true, project: "pilot-test" });
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("says how to install the discovery documents when they are missing", () => {
    expect(() => discoveryDir({ PILOT_MOTO_VENV: "/nonexistent/venv" })).toThrow(/run `bash scripts\/services\.sh`/);
  });
});
