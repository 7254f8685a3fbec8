import { describe, expect, it } from "vitest";
import { orphansOf } from "../../../src/engine/orphans.js";
import type { TaggedResource } from "../../../src/engine/types.js";
import type { StackState } from "../../../src/state/schema.js";

const LINEAGE = "11111111-2222-4333-8444-555555555555";
const state: StackState = {
  version: 1, lineage: LINEAGE, serial: 3, provider: "aws", settings: {}, secrets: {}, server: {},
  resources: {
    vpc: { type: "t.vpc", status: "created", token: "a", id: "vpc-1", dependsOn: [] },
    db: { type: "t.db", status: "creating", token: "b", dependsOn: ["vpc"] },
  },
};
const tagged = (type: string, id: string, extra: Partial<TaggedResource> = {}): TaggedResource => ({ type, id, uses: [], ...extra });

describe("orphansOf", () => {
  it("leaves out what state tracks by id and the half-made create state will adopt", () => {
    const found = [
      tagged("t.vpc", "vpc-1", { lineage: LINEAGE, key: "vpc" }),
      tagged("t.db", "db-9", { lineage: LINEAGE, key: "db", uses: [{ type: "t.vpc", id: "vpc-1" }] }),
      tagged("t.vpc", "vpc-old", { lineage: "old" }),
    ];
    expect(orphansOf(found, state)).toEqual([{ key: "orphan:t.vpc:vpc-old", type: "t.vpc", id: "vpc-old", lineage: "old", dependsOn: [] }]);
  });

  it("orders an orphan before what it uses, tracked or not", () => {
    const found = [
      tagged("t.subnet", "sn-1", { uses: [{ type: "t.vpc", id: "vpc-1" }] }),
      tagged("t.vm", "i-1", { uses: [{ type: "t.subnet", id: "sn-1" }, { type: "t.unknown", id: "x" }] }),
    ];
    const orphans = orphansOf(found, state);
    // The subnet waits for nothing tracked; the tracked VPC is deleted only after the subnet (its dependsOn points at "vpc").
    expect(orphans.map((o) => [o.key, o.dependsOn])).toEqual([
      ["orphan:t.subnet:sn-1", ["vpc"]],
      ["orphan:t.vm:i-1", ["orphan:t.subnet:sn-1"]],
    ]);
  });

  it("drops the edge that would close a cycle (groups whose rules refer to each other)", () => {
    const found = [
      tagged("t.sg", "a", { uses: [{ type: "t.sg", id: "b" }] }),
      tagged("t.sg", "b", { uses: [{ type: "t.sg", id: "a" }] }),
    ];
    const orphans = orphansOf(found, undefined);
    expect(orphans.map((o) => o.dependsOn)).toEqual([["orphan:t.sg:b"], []]);
  });

  it("treats everything as an orphan when the state file is lost", () => {
    expect(orphansOf([tagged("t.vpc", "vpc-1", { lineage: LINEAGE })], undefined).map((o) => o.key)).toEqual(["orphan:t.vpc:vpc-1"]);
  });
});
