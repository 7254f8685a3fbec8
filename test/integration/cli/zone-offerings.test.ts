/**
 * The server's subnet goes to a zone that offers its instance type (issue 8,
 * point 11), through the real CLI against moto, whose offerings are AWS's
 * published ones: trn1.32xlarge is offered in us-east-1b, 1c and 1f but not
 * in us-east-1a, the region's first zone, where the subnet went before.
 */
import { DescribeInstanceTypeOfferingsCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { useCliHarness, withEc2 } from "./helpers.js";

const h = useCliHarness("pilot-cli-zones-");
const TYPE = "trn1.32xlarge";

describe("pilot up-server: availability zones that offer the instance type (aws, moto)", () => {
  it("puts the server's subnet in a zone offering the type, the private subnets where they were", async () => {
    const offered = await withEc2(async (ec2) =>
      ((await ec2.send(new DescribeInstanceTypeOfferingsCommand({ LocationType: "availability-zone", Filters: [{ Name: "instance-type", Values: [TYPE] }] }))).InstanceTypeOfferings ?? []).map((o) => o.Location),
    );
    // The premise: moto's data offers it in some zones of the region, not in its first.
    expect(offered.length).toBeGreaterThan(0);
    expect(offered).not.toContain("us-east-1a");

    const r = await h.cli.up("zones", ["--instance-type", TYPE]);
    expect(r.code, r.stderr).toBe(0);
    const ids = h.cli.ids("zones");
    const zoneOf = (id: string) => withEc2(async (ec2) => (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets![0]!.AvailabilityZone);
    expect(offered).toContain(await zoneOf(ids["subnet-public"]!));
    // The database's subnets do not hold the server: they keep the region's first two zones.
    expect([await zoneOf(ids["subnet-private-a"]!), await zoneOf(ids["subnet-private-b"]!)]).toEqual(["us-east-1a", "us-east-1b"]);

    const again = await h.cli.up("zones", ["--instance-type", TYPE, "--json"]);
    expect(again.json.plan.filter((c: { action: string }) => c.action !== "keep")).toEqual([]);
  });
});
