/**
 * A lost answer through the real SDK (issue 8, point 10): a create whose
 * answer never comes is timed out by the client (REQUEST_HANDLER), retried by
 * the SDK's standard mode, and, as the call had taken effect, leaves a
 * duplicate in moto, which the kind deletes because the answer says the SDK
 * needed more than one attempt. The timeout is shortened here; the mechanism
 * is the one every Pilot client has.
 */
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { MAX_ATTEMPTS, REQUEST_HANDLER } from "../../../src/providers/aws/clients.js";
import { tagFilters } from "../../../src/providers/aws/shared.js";
import { vpcKind } from "../../../src/providers/aws/vpc.js";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import { motoEnv, resetMoto } from "../../support/moto.js";

const url = inject("motoEndpoint");
let proxy: FaultProxy;
beforeAll(async () => {
  await resetMoto(url);
  // The first CreateVpc hangs after moto made the VPC; the SDK's retry is answered.
  proxy = await startFaultProxy(url, { seed: 1, rates: { hang: 1 }, only: (action, n) => action === "CreateVpc" && n === 1 });
});
afterAll(() => proxy.close());

it("a CreateVpc whose answer never comes is timed out, retried, and its duplicate deleted with a warning", async () => {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = motoEnv(url);
  const credentials = { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY };
  const ec2 = new EC2Client({ region: "us-east-1", endpoint: proxy.url, credentials, maxAttempts: MAX_ATTEMPTS, retryMode: "standard", requestHandler: { ...REQUEST_HANDLER, requestTimeout: 3_000 } });
  const direct = new EC2Client({ region: "us-east-1", endpoint: url, credentials });
  try {
    // moto builds a region's EC2 backend on first use, which takes seconds: not in the timed call.
    await direct.send(new DescribeVpcsCommand({}));
    const tags = { stack: "lost", stackId: "11111111-2222-3333-4444-555555555555", key: "vpc" };
    const warned: string[] = [];
    const kind = vpcKind({ clients: { ec2 } as never, region: "us-east-1", pollScale: 0 });
    const res = await kind.create({ cidr: "10.42.0.0/16" }, { token: "t", tags, progress: () => undefined, warn: (m) => warned.push(m) });

    expect(proxy.faults()).toEqual([{ action: "CreateVpc", mode: "hang" }]);
    expect(proxy.calls().CreateVpc).toBe(2);
    const left = (await direct.send(new DescribeVpcsCommand({ Filters: tagFilters(tags) }))).Vpcs!.map((v) => v.VpcId);
    expect(left).toEqual([res.id]);
    expect(warned).toEqual([expect.stringMatching(new RegExp(`^deleted duplicate aws\\.ec2\\.vpc vpc-[0-9a-f]+: .*\\(kept ${res.id}\\)\\.$`))]);
  } finally {
    ec2.destroy();
    direct.destroy();
  }
});
