/**
 * `pilot up-server` against moto, through the real CLI: creating the stack,
 * re-running it (no change), repairing out-of-band deletions, --dry-run, and
 * the JSON document.
 */
import {
  DeleteSecurityGroupCommand, DisassociateAddressCommand, EC2Client, ReleaseAddressCommand, RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHarness, counts, expectOneStack, FULL_STACK, inventory, NODE_KEYS } from "./helpers.js";

const h = useCliHarness("pilot-cli-it-");

/**
 * Deletes the apps security group the way real AWS allows: first the
 * database group's rule that references it (AWS refuses to delete a
 * referenced group; moto does not check, and would leave a stale rule).
 */
async function deleteAppsGroup(ec2: EC2Client, ids: Record<string, string | undefined>): Promise<void> {
  await ec2.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: ids["sg-db"],
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: ids["sg-apps"] }] }],
    }),
  );
  await ec2.send(new DeleteSecurityGroupCommand({ GroupId: ids["sg-apps"] }));
}

describe("pilot up-server (aws, moto)", () => {
  it("creates the whole stack, records every node, and prints one JSON document without secrets", async () => {
    const r = await h.cli.up("up-create", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json, "stdout is exactly one JSON document").toBeDefined();
    expect(r.json).toMatchObject({ ok: true, command: "up-server", stack: "up-create" });
    // stderr carries the progress and nothing stray: the SDK's Node-version notice is filtered.
    expect(r.stderr).not.toMatch(/Warning|\(node:\d+\)/);
    expect(r.stderr).toMatch(/^Acting as arn:aws:/m);
    expect(r.json.plan.map((c: { action: string }) => c.action)).toEqual(NODE_KEYS.map(() => "create"));
    expect(Object.keys(r.json.resources).sort()).toEqual([...NODE_KEYS].sort());

    await expectOneStack(h.cli, "up-create");
    const state = h.cli.state("up-create");
    expect(state.secrets.dbPassword).toMatch(/^[A-Za-z0-9]{32}$/);
    // h.cli.run already checked stdout and stderr for the password; the JSON ids match state too.
    for (const [key, res] of Object.entries(r.json.resources as Record<string, { id: string }>)) expect(res.id).toBe(state.resources[key].id);
  });

  it("changes nothing on a second run: same ids, all kept, moto unchanged", async () => {
    expect((await h.cli.up("up-again")).code).toBe(0);
    const ids = h.cli.ids("up-again");
    const before = await inventory("up-again");

    const r = await h.cli.up("up-again", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan.filter((c: { action: string }) => c.action !== "keep")).toEqual([]);
    expect(h.cli.ids("up-again")).toEqual(ids);
    expect(await inventory("up-again")).toEqual(before);
    // No create, update or delete event at all.
    expect(r.json.events.filter((e: { type: string; action?: string }) => e.type === "start" && e.action !== "keep")).toEqual([]);
  });

  it("re-creates resources deleted out of band (apps security group, Elastic IP) and keeps the rest", async () => {
    expect((await h.cli.up("up-drift")).code).toBe(0);
    const ids = h.cli.ids("up-drift");
    const ec2 = new EC2Client({ region: "us-east-1" });
    try {
      await deleteAppsGroup(ec2, ids);
      const eip = h.cli.state("up-drift").resources.eip.out as { associationId: string };
      await ec2.send(new DisassociateAddressCommand({ AssociationId: eip.associationId }));
      await ec2.send(new ReleaseAddressCommand({ AllocationId: ids.eip }));
    } finally {
      ec2.destroy();
    }
    expect(counts(await inventory("up-drift"))).toMatchObject({ securityGroup: FULL_STACK.securityGroup! - 1, eip: 0 });

    const r = await h.cli.up("up-drift", ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const changed = Object.fromEntries(
      (r.json.plan as { key: string; action: string; reason: string }[]).filter((c) => c.action !== "keep").map((c) => [c.key, c.action]),
    );
    // sg-db's rule names the re-created group, whose id is known only after apply: planned as an
    // in-place update (never a replace), diffed again at apply time with the new id.
    expect(changed).toEqual({ "sg-apps": "create", eip: "create", "sg-db": "update" });
    const done = (r.json.events as { type: string; key: string; action?: string }[]).filter((e) => e.type === "done" && e.action !== "keep");
    expect(Object.fromEntries(done.map((e) => [e.key, e.action]))).toEqual({ "sg-apps": "create", eip: "create", "sg-db": "update" });

    const after = h.cli.ids("up-drift");
    expect(after["sg-apps"]).not.toBe(ids["sg-apps"]);
    expect(after.eip).not.toBe(ids.eip);
    for (const key of NODE_KEYS.filter((k) => k !== "sg-apps" && k !== "eip")) expect(after[key], key).toBe(ids[key]);
    await expectOneStack(h.cli, "up-drift");
    // The new address points at the same server.
    expect((h.cli.state("up-drift").resources.eip.out as { instanceId: string }).instanceId).toBe(ids.server);
    const sgDb = h.cli.state("up-drift").resources["sg-db"].out as { ingress: string[] };
    expect(sgDb.ingress).toContain(`tcp:5432:sg:${after["sg-apps"]}`);
    expect(sgDb.ingress.join(",")).not.toContain(ids["sg-apps"]!);
  });

  it("--dry-run on a new stack writes no state and creates nothing", async () => {
    const r = await h.cli.up("up-dry", ["--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, dryRun: true });
    expect(r.json.plan.map((c: { action: string }) => c.action)).toEqual(NODE_KEYS.map(() => "create"));
    const dir = join(h.home, "stacks", "up-dry");
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    const inv = await inventory("up-dry");
    expect(Object.values(inv).flat()).toEqual([]);
  });

  it("--dry-run on a drifted stack shows the create, changes nothing and keeps the serial", async () => {
    expect((await h.cli.up("up-drydrift")).code).toBe(0);
    const ids = h.cli.ids("up-drydrift");
    const ec2 = new EC2Client({ region: "us-east-1" });
    try {
      await deleteAppsGroup(ec2, ids);
    } finally {
      ec2.destroy();
    }
    const serial = h.cli.state("up-drydrift").serial;
    const before = await inventory("up-drydrift");

    const r = await h.cli.up("up-drydrift", ["--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const apps = r.json.plan.find((c: { key: string }) => c.key === "sg-apps");
    expect(apps).toMatchObject({ action: "create", reason: "deleted outside Pilot" });
    expect(h.cli.state("up-drydrift").serial).toBe(serial);
    expect(h.cli.ids("up-drydrift")).toEqual(ids);
    expect(await inventory("up-drydrift")).toEqual(before);
    expect(counts(before)).toEqual({ ...FULL_STACK, securityGroup: FULL_STACK.securityGroup! - 1 });

    // The human form says so too.
    const human = await h.cli.up("up-drydrift", ["--dry-run"]);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/\+\s+sg-apps\s+aws\.ec2\.security-group\s+create: deleted outside Pilot/);
    expect(human.stdout).toMatch(/Dry run: nothing was changed/);
  });
});
