import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeKeyPairsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { GetInstanceProfileCommand, GetRoleCommand } from "@aws-sdk/client-iam";
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, DescribeDBSubnetGroupsCommand } from "@aws-sdk/client-rds";
import { statSync } from "node:fs";
import { awsInventory } from "../../support/aws-inventory.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import type { StackNode } from "../../../src/engine/types.js";
import { createAwsProvider } from "../../../src/providers/aws/provider.js";
import { NEWEST_UBUNTU_AMD64, resetMoto } from "../../support/moto.js";
import { createNode, deleteNode, makeHarness, topoOrder, useMoto, type Harness } from "./harness.js";

const url = inject("motoEndpoint");
let restoreEnv: () => void;
let h: Harness;

beforeAll(() => {
  restoreEnv = useMoto(url);
});
afterAll(() => restoreEnv());
beforeEach(async () => {
  await resetMoto(url);
});
afterEach(() => h?.close());

/** Every resource still carrying this stack's lineage tag (see test/support/aws-inventory.ts). */
async function leftoverEc2(h: Harness): Promise<string[]> {
  const inv = await awsInventory({ tag: { key: "pilot:stack-id", value: h.store.current!.lineage } });
  return Object.values(inv).flat();
}

describe("AWS provider against moto", () => {
  it("creates its own clients, honouring AWS_ENDPOINT_URL, and checks credentials with STS", async () => {
    const provider = createAwsProvider({ stack: "own", stackDir: "/nonexistent", env: process.env, emit: () => undefined });
    try {
      const settings = await provider.resolveSettings({ allowCidr: ["192.0.2.1"] }, undefined);
      expect(settings.region).toBe("us-east-1"); // from AWS_REGION, as the config chain would
      await expect(provider.checkCredentials(settings)).resolves.toMatch(/^arn:aws:\S+ \(account \d{12}\)$/);
      const vpc = await provider.kinds(settings)["aws.ec2.vpc"]!.create({ cidr: "10.9.0.0/16" }, {
        token: "t",
        tags: { stack: "own", stackId: "00000000-0000-0000-0000-000000000000", key: "vpc" },
        progress: () => undefined,
      });
      expect(vpc.id).toMatch(/^vpc-/);
    } finally {
      provider.close?.();
    }
  });

  it("builds a graph with every kind, keyed in kebab-case, in a valid order", async () => {
    h = await makeHarness();
    const nodes = h.provider.graph(h.settings, h.store.current!);
    const kinds = h.provider.kinds(h.settings);
    for (const n of nodes) {
      expect(n.key).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(kinds[n.kind.type]).toBeDefined();
    }
    expect(new Set(nodes.map((n) => n.kind.type))).toEqual(new Set(Object.keys(kinds)));
    expect(topoOrder(nodes)).toHaveLength(nodes.length);
  });

  it("prepares an ed25519 key (0600) and a password once, before any resource", async () => {
    h = await makeHarness();
    const key = `${h.store.dir}/id_ed25519`;
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const pw = h.store.current!.secrets.dbPassword!;
    expect(pw).toMatch(/^[A-Za-z0-9]{32}$/);
    await h.provider.prepare(h.settings, h.store);
    expect(h.store.current!.secrets.dbPassword).toBe(pw);
    expect(h.store.current!.resources).toEqual({});
  });

  it("creates, reads, finds, re-diffs and deletes every node; nothing tagged is left", async () => {
    h = await makeHarness();
    const nodes = topoOrder(h.provider.graph(h.settings, h.store.current!));

    for (const node of nodes) {
      const created = await createNode(h, node);
      const read = await node.kind.read(created.id, created.out);
      expect(read, `${node.key} read after create`).toBeDefined();
      const spec = node.spec(depsFor(node));
      const found = await node.kind.find(h.tagsOf(node.key), spec);
      expect(found?.id, `${node.key} found by tags`).toBe(created.id);
      // The no-op re-run: live outputs match the spec.
      const diff = node.kind.diff?.(spec, read) ?? { result: "same" };
      expect(diff, `${node.key} diff`).toEqual({ result: "same" });
    }

    const state = h.store.current!;
    const server = state.resources.server!;
    expect(server.out!.imageId).toBe(NEWEST_UBUNTU_AMD64);
    expect(h.provider.serverAccess(state)).toMatchObject({ port: 22, user: "ubuntu", host: state.resources.eip!.out!.publicIp });
    const db = h.provider.databaseInfo(state)!;
    expect(db).toMatchObject({ port: 5432, user: "pilot", database: "pilot", passwordSecret: "dbPassword" });
    expect(state.resources.db!.id).toMatch(/^pilot-it-[0-9a-f]{8}$/);
    const rdsDb = (await h.clients.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: state.resources.db!.id }))).DBInstances![0]!;
    expect(rdsDb.PubliclyAccessible).toBe(false);
    expect(rdsDb.StorageEncrypted).toBe(true);
    expect(h.progress.db?.some((m) => m.startsWith("available"))).toBe(true);
    const sgServer = state.resources["sg-server"]!.out as { ingress: string[] };
    expect(sgServer.ingress).toEqual(["tcp:22:cidr:203.0.113.9/32", "tcp:9701:cidr:203.0.113.9/32", "tcp:9702:cidr:203.0.113.9/32"]);
    const subnetA = state.resources["subnet-private-a"]!.out as { availabilityZone: string };
    const subnetB = state.resources["subnet-private-b"]!.out as { availabilityZone: string };
    expect(subnetA.availabilityZone).not.toBe(subnetB.availabilityZone);

    h.settings.skipFinalSnapshot = true;
    const kinds = h.provider.kinds(h.settings);
    for (const node of [...nodes].reverse()) {
      // Teardown works from state alone: the kind comes from kinds() by type, not from the graph.
      const r = h.store.current!.resources[node.key]!;
      const kind = kinds[r.type]!;
      const ctx = { tags: h.tagsOf(node.key), progress: () => undefined };
      await kind.delete(r.id!, r.out, ctx);
      expect(await kind.read(r.id!, r.out), `${node.key} read after delete`).toBeUndefined();
      await kind.delete(r.id!, r.out, ctx); // already gone = success
      await h.store.update((s) => void delete s.resources[node.key]);
    }

    expect(await leftoverEc2(h)).toEqual([]);
    expect((await h.clients.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).toEqual([]);
    expect((await h.clients.rds.send(new DescribeDBSubnetGroupsCommand({}))).DBSubnetGroups?.filter((g) => g.DBSubnetGroupName !== "default") ?? []).toEqual([]);
    // The role's name does not depend on the VPC its policy names (any id gives the same name).
    const roleName = nodes.find((n) => n.key === "role-server")!.spec({ vpc: { vpcId: "vpc-any" } }).name;
    await expect(h.clients.iam.send(new GetRoleCommand({ RoleName: roleName }))).rejects.toMatchObject({ name: "NoSuchEntityException" });
    await expect(h.clients.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: roleName }))).rejects.toMatchObject({
      name: "NoSuchEntityException",
    });

    function depsFor(n: StackNode) {
      const res = h.store.current!.resources;
      return Object.fromEntries(n.dependsOn.map((d) => [d, res[d]!.out]));
    }
  });

  it("updates the server security group in place when --allow-cidr changes", async () => {
    h = await makeHarness();
    const nodes = topoOrder(h.provider.graph(h.settings, h.store.current!)).filter((n) => ["vpc", "sg-server"].includes(n.key));
    for (const n of nodes) await createNode(h, n);
    const before = h.store.current!.resources["sg-server"]!;

    const settings = await h.provider.resolveSettings({ allowCidr: ["192.0.2.0/24", "203.0.113.10"] }, h.settings);
    const node = h.provider.graph(settings, h.store.current!).find((n) => n.key === "sg-server")!;
    const spec = node.spec({ vpc: h.store.current!.resources.vpc!.out });
    const live = await node.kind.read(before.id!, before.out);
    expect(node.kind.diff!(spec, live)).toMatchObject({ result: "update" });
    await node.kind.update!(before.id!, spec, live);
    const after = (await node.kind.read(before.id!, live)) as { ingress: string[] };
    expect(after.ingress).toEqual([
      "tcp:22:cidr:192.0.2.0/24",
      "tcp:22:cidr:203.0.113.10/32",
      "tcp:9701:cidr:192.0.2.0/24",
      "tcp:9701:cidr:203.0.113.10/32",
      "tcp:9702:cidr:192.0.2.0/24",
      "tcp:9702:cidr:203.0.113.10/32",
    ]);
    expect(node.kind.diff!(spec, after)).toEqual({ result: "same" });
  });

  it("keeps a final RDS snapshot on delete and names it in progress", async () => {
    h = await makeHarness();
    const wanted = new Set(["vpc", "subnet-private-a", "subnet-private-b", "sg-server", "sg-lb", "sg-apps", "sg-db", "db-subnet-group", "db"]);
    const nodes = topoOrder(h.provider.graph(h.settings, h.store.current!)).filter((n) => wanted.has(n.key));
    for (const n of nodes) await createNode(h, n);
    const dbNode = nodes.find((n) => n.key === "db")!;
    const id = h.store.current!.resources.db!.id!;
    await deleteNode(h, dbNode);
    const said = h.progress.db!.join("\n");
    const name = /final snapshot (\S+)/.exec(said)?.[1];
    expect(name).toMatch(new RegExp(`^${id}-final-\\d{12}$`));
    const snaps = await h.clients.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: name }));
    expect(snaps.DBSnapshots?.[0]?.DBSnapshotIdentifier).toBe(name);
    for (const n of [...nodes].reverse().slice(1)) await deleteNode(h, n);
  });

  it("honours --ami over the Ubuntu look-up", async () => {
    h = await makeHarness();
    const img = await h.clients.ec2.send(new RegisterImageCommand({ Name: "custom-image", RootDeviceName: "/dev/sda1" }));
    const settings = await h.provider.resolveSettings({ ami: img.ImageId }, h.settings);
    const nodes = topoOrder(h.provider.graph(settings, h.store.current!));
    const upToServer = nodes.slice(0, nodes.findIndex((n) => n.key === "server") + 1);
    for (const n of upToServer) await createNode(h, n);
    expect(h.store.current!.resources.server!.out!.imageId).toBe(img.ImageId);
  });
});
