/**
 * A lost answer leaves no duplicate (issue 8, point 10): the real CLI runs
 * `up-server --provider aws` against moto behind the tests' fault proxy
 * (test/support/fault-proxy.ts), which throttles, answers 5xx, and forwards
 * a share of calls and then drops their answers, seeded so a failure can be
 * replayed. Each run must complete with exactly one of every resource, as
 * moto itself lists them, and teardown (through the same faults) must leave
 * nothing. `pilot status` names a tagged resource that state does not track.
 */
import { CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tagSpecs } from "../../../src/providers/aws/shared.js";
import { isCreateAction, startFaultProxy, type FaultProxy, type FaultRecord } from "../../support/fault-proxy.js";
import { motoEnv } from "../../support/moto.js";
import { Cli, expectNothingLeft, expectOneStack, useCliHarness } from "./helpers.js";

const h = useCliHarness("pilot-cli-lost-");

/**
 * Seeds and loss rates (as much again throttled or answered 5xx), chosen so
 * the drops fall on the untokened creates: with 10% of answers dropped, seed
 * 1 drops an AllocateAddress answer; with 20%, seed 12 drops CreateVpc and two
 * AllocateAddress answers, seed 14 two CreateVpc and a CreateInternetGateway
 * (and every run drops others: subnets, security groups, IAM, RunInstances).
 */
const RUNS = [
  { seed: 1, drop: 0.1 },
  { seed: 12, drop: 0.2 },
  { seed: 14, drop: 0.2 },
];

/** Duplicates the run deleted, as its warnings name them. */
const duplicatesDeleted = (json: any): string[] =>
  (json?.events ?? []).filter((e: any) => e.type === "log" && e.level === "warn" && /deleted duplicate/.test(e.message)).map((e: any) => e.message);

describe("up-server and teardown against moto behind a lossy proxy (aws)", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(h.url, { seed: 0, rates: {} });
  });
  afterAll(() => proxy.close());

  const droppedCreates: FaultRecord[] = [];
  const deleted: string[] = [];

  for (const { seed, drop } of RUNS) {
    it(`seed ${seed}, ${drop * 100}% of answers dropped: one of each resource, then nothing`, async () => {
      proxy.reset({ seed, rates: { throttle: drop / 2, "5xx": drop / 2, drop } });
      const cli = new Cli(h.url, h.home, proxy.url);
      const stack = `lost${seed}`;
      const up = await cli.up(stack, ["--json"]);
      const faults = proxy.faults();
      const replay = `replay: seed ${seed}, rates ${JSON.stringify({ throttle: drop / 2, "5xx": drop / 2, drop })}; faults ${JSON.stringify(faults)}`;
      expect(up.code, `${replay}\n${up.stderr}`).toBe(0);
      expect(faults.length, replay).toBeGreaterThan(0);
      await expectOneStack(cli, stack);
      droppedCreates.push(...faults.filter((f) => f.mode === "drop" && isCreateAction(f.action)));
      deleted.push(...duplicatesDeleted(up.json));

      const down = await cli.teardown(stack);
      expect(down.code, `${replay}; teardown faults ${JSON.stringify(proxy.faults().slice(faults.length))}\n${down.stderr}`).toBe(0);
      await expectNothingLeft(stack);
    });
  }

  it("the runs did lose create answers, and the duplicates they left were deleted", () => {
    // Without this the file could pass with no fault where it matters.
    expect(droppedCreates.filter((f) => ["CreateVpc", "CreateInternetGateway", "AllocateAddress"].includes(f.action)).length).toBeGreaterThanOrEqual(4);
    expect(deleted.length).toBeGreaterThanOrEqual(4);
    expect(deleted.some((m) => /aws\.ec2\.internet-gateway igw-/.test(m))).toBe(true);
    expect(deleted.some((m) => /aws\.ec2\.vpc vpc-/.test(m))).toBe(true);
    expect(deleted.some((m) => /aws\.ec2\.elastic-ip eipalloc-/.test(m))).toBe(true);
  });
});

describe("pilot status names what carries the stack's tags but is not in its state (aws)", () => {
  it("lists an untracked duplicate, human and --json, and does not fail for it", async () => {
    expect((await h.cli.up("untracked")).code).toBe(0);
    const tidy = await h.cli.run(["status", "--name", "untracked", "--json"]);
    expect(tidy.code, tidy.stderr).toBe(0);
    expect(tidy.json.untracked).toEqual([]);
    expect(tidy.stderr).not.toMatch(/does not track/);

    // What a lost answer left before this fix: a second VPC with the node's own tags.
    const state = h.cli.state("untracked");
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = motoEnv(h.url);
    const ec2 = new EC2Client({ region: "us-east-1", endpoint: h.url, credentials: { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY } });
    const extra = await ec2
      .send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16", TagSpecifications: tagSpecs({ stack: "untracked", stackId: state.lineage, key: "vpc" }, "vpc") }))
      .finally(() => ec2.destroy());
    const extraId = extra.Vpc!.VpcId!;

    const json = await h.cli.run(["status", "--name", "untracked", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    expect(json.json.ok).toBe(true);
    expect(json.json.untracked).toEqual([{ type: "aws.ec2.vpc", id: extraId, lineage: state.lineage, key: "vpc" }]);
    expect(json.stderr).toMatch(/1 resource\(s\) carry the tags of stack "untracked" but its state does not track them/);

    const human = await h.cli.run(["status", "--name", "untracked"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`Tagged for stack "untracked" but not tracked by its state (1):`);
    expect(human.stdout).toContain(`? aws.ec2.vpc  ${extraId}  (this stack's lineage, node vpc)`);

    // teardown --orphans removes it with the stack.
    const down = await h.cli.teardown("untracked", ["--orphans", "--skip-final-snapshot"]);
    expect(down.code, down.stderr).toBe(0);
    await expectNothingLeft("untracked");
  });
});
