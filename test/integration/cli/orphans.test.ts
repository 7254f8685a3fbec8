/**
 * `pilot teardown --orphans` through the real CLI against moto: resources
 * tagged for a stack but missing from its state (a lost state file, an
 * earlier lineage) are listed, removed in an order AWS accepts, and nothing
 * of another stack is touched, not even one whose name starts the same.
 */
import { rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Inventory } from "../../support/aws-inventory.js";
import { counts, expectNothingLeft, expectOneStack, FULL_STACK, inventory, NODE_KEYS, useCliHarness } from "./helpers.js";

const h = useCliHarness("pilot-cli-orphans-");
const WHERE = ["--provider", "aws", "--region", "us-east-1"];

const ids = (inv: Inventory) => Object.values(inv).flat().sort();
/** The inventory of `stack` without what belongs to `other`, whose name `pilot-<stack>-` also prefixes. */
async function inventoryWithout(stack: string, other: string): Promise<Inventory> {
  const inv = await inventory(stack);
  const theirs = new Set(ids(await inventory(other)));
  return Object.fromEntries(Object.entries(inv).map(([k, list]) => [k, list.filter((id) => !theirs.has(id))]));
}
/** Progress lines of a retried delete ("waiting: DependencyViolation ..."): none means the order was right. */
const waits = (json: any) => (json.events as { type: string; message?: string }[]).filter((e) => e.type === "progress" && /^waiting/.test(e.message ?? ""));

describe("pilot teardown --orphans (aws, moto)", () => {
  it("finds and removes a stack whose state file is lost, and nothing of its neighbours", async () => {
    expect((await h.cli.up("lost")).code).toBe(0);
    // A neighbour whose IAM and subnet-group names also start with "pilot-lost-".
    expect((await h.cli.up("lost-b")).code).toBe(0);
    const before = await inventoryWithout("lost", "lost-b");
    expect(counts(before)).toEqual(FULL_STACK);
    rmSync(join(h.home, "stacks", "lost"), { recursive: true });

    // Without a state file the provider has to be named.
    const blind = await h.cli.run(["teardown", "--orphans", "--name", "lost", "--yes"]);
    expect(blind.code).toBe(2);
    expect(blind.stderr).toMatch(/no state file[\s\S]*--provider aws --region/);

    // --dry-run lists every one of them and deletes nothing.
    const dry = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...WHERE, "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ ok: true, dryRun: true, plan: [] });
    expect(dry.json.orphans.map((o: { id: string }) => o.id).sort()).toEqual(ids(before));
    expect(new Set(dry.json.orphans.map((o: { lineage: string }) => o.lineage)).size).toBe(1);
    expect(await inventoryWithout("lost", "lost-b")).toEqual(before);
    const human = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...WHERE, "--dry-run"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`not in its state (${NODE_KEYS.length})`);
    for (const id of ids(before)) expect(human.stdout).toContain(id);

    // Another region holds nothing of it; the global IAM role is left alone there (it may be another region's stack).
    const west = await h.cli.run(["teardown", "--orphans", "--name", "lost", "--provider", "aws", "--region", "us-west-2", "--yes"]);
    expect(west.code, west.stderr).toBe(0);
    expect(west.stdout).toMatch(/Nothing to delete/);
    expect(west.stderr).toMatch(/aws\.iam\.role pilot-lost-[0-9a-f]{8}-server .*left alone/);
    expect(await inventoryWithout("lost", "lost-b")).toEqual(before);

    // The real run: everything goes, in an order moto accepts without a single retry.
    const r = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...WHERE, "--yes", "--skip-final-snapshot", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.deleted).toHaveLength(NODE_KEYS.length);
    expect(waits(r.json)).toEqual([]);
    const left = await inventoryWithout("lost", "lost-b");
    expect(Object.fromEntries(Object.entries(left).filter(([, l]) => l.length > 0))).toEqual({});
    expect(existsSync(join(h.home, "stacks", "lost"))).toBe(false);
    // The neighbour is whole, state and all.
    await expectOneStack(h.cli, "lost-b");

    // Nothing is left to find.
    const again = await h.cli.run(["teardown", "--orphans", "--name", "lost", ...WHERE, "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Nothing to delete/);
  });

  it("a plain teardown leaves an earlier lineage's leftovers and says how to remove them; --orphans with state removes both", async () => {
    // Lineage 1, then its state is lost and the stack is made again (lineage 2).
    expect((await h.cli.up("twice")).code).toBe(0);
    const first = await inventory("twice");
    rmSync(join(h.home, "stacks", "twice"), { recursive: true });
    expect((await h.cli.up("twice")).code).toBe(0);

    const plain = await h.cli.teardown("twice");
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/pilot teardown --orphans --name twice --provider aws --region us-east-1/);
    // Only lineage 2 went: lineage 1 is all still there.
    expect(await inventory("twice")).toEqual(first);

    // Lineage 3 with its state, plus lineage 1's leftovers: one --orphans run removes both, state first.
    expect((await h.cli.up("twice")).code).toBe(0);
    const lineage = h.cli.state("twice").lineage;
    const r = await h.cli.run(["teardown", "--orphans", "--name", "twice", "--yes", "--skip-final-snapshot", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.deleted).toHaveLength(2 * NODE_KEYS.length);
    expect(r.json.orphans.map((o: { id: string }) => o.id).sort()).toEqual(ids(first));
    expect(r.json.orphans.every((o: { lineage: string }) => o.lineage !== lineage)).toBe(true);
    expect(waits(r.json)).toEqual([]);
    await expectNothingLeft("twice");
    expect(existsSync(join(h.home, "stacks", "twice"))).toBe(false);
  });

  it("a leftover inside the tracked VPC is deleted before it", async () => {
    expect((await h.cli.up("inside")).code).toBe(0);
    const state = h.cli.state("inside");
    // A subnet of this very lineage that state does not track (as if its entry had been lost).
    const { EC2Client, CreateSubnetCommand } = await import("@aws-sdk/client-ec2");
    const ec2 = new EC2Client({ region: "us-east-1" });
    let extra: string;
    try {
      const res = await ec2.send(
        new CreateSubnetCommand({
          VpcId: state.resources.vpc.id!,
          CidrBlock: "10.42.99.0/24",
          TagSpecifications: [
            {
              ResourceType: "subnet",
              Tags: [
                { Key: "pilot:stack", Value: "inside" },
                { Key: "pilot:stack-id", Value: state.lineage },
                { Key: "pilot:key", Value: "subnet-extra" },
              ],
            },
          ],
        }),
      );
      extra = res.Subnet!.SubnetId!;
    } finally {
      ec2.destroy();
    }
    const dry = await h.cli.run(["teardown", "--orphans", "--name", "inside", "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.orphans).toEqual([{ key: `orphan:aws.ec2.subnet:${extra}`, type: "aws.ec2.subnet", id: extra, lineage: state.lineage, dependsOn: ["vpc"] }]);
    expect(dry.json.plan).toHaveLength(NODE_KEYS.length);

    const r = await h.cli.run(["teardown", "--orphans", "--name", "inside", "--yes", "--skip-final-snapshot", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.deleted).toHaveLength(NODE_KEYS.length + 1);
    const order = r.json.deleted as string[];
    expect(order.indexOf(`orphan:aws.ec2.subnet:${extra}`)).toBeLessThan(order.indexOf("vpc"));
    expect(waits(r.json)).toEqual([]);
    await expectNothingLeft("inside");
  });
});
