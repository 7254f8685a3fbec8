/**
 * The environment an AWS kind is built with, for unit tests against
 * aws-sdk-client-mock: real SDK clients (whose `send` the mock replaces), no
 * sleeping, and a clock that moves `step` ms per look so bounded waits end.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { RDSClient } from "@aws-sdk/client-rds";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsClients } from "../../../../src/providers/aws/clients.js";

export function kindEnv(o: { region?: string; start?: number; step?: number } = {}) {
  const region = o.region ?? "us-east-1";
  let t = o.start ?? 0;
  const step = o.step ?? 1_000;
  const clients: AwsClients = { ec2: new EC2Client({ region }), iam: new IAMClient({ region }), rds: new RDSClient({ region }), sts: new STSClient({ region }) };
  return { clients, region, pollScale: 0, now: () => (t += step) };
}

/** Tags of a node of this stack's lineage, and of the same stack name from another lineage. */
export const OURS = { stack: "t", stackId: "11111111-2222-3333-4444-555555555555", key: "node" };
export const THEIRS = { stack: "t", stackId: "99999999-8888-7777-6666-555555555555", key: "node" };

/** An EC2-style error: EC2 has no modeled exceptions, the code is the error's name. */
export const ec2Error = (code: string, message = code) => Object.assign(new Error(message), { name: code });
