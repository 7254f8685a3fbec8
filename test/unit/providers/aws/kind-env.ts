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
