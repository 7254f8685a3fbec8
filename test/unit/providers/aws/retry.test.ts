import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { RDSClient } from "@aws-sdk/client-rds";
import { STSClient } from "@aws-sdk/client-sts";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, type AwsClients } from "../../../../src/providers/aws/clients.js";
import { vpcKind } from "../../../../src/providers/aws/vpc.js";

const tags = { stack: "t", stackId: "11111111-2222-3333-4444-555555555555", key: "vpc" };
const noProgress = { progress: () => undefined };

function clientsWith(over: Partial<AwsClients>): AwsClients {
  const region = "us-east-1";
  return { ec2: new EC2Client({ region }), rds: new RDSClient({ region }), iam: new IAMClient({ region }), sts: new STSClient({ region }), ...over };
}

/**
 * A fake HTTP layer under a real client. aws-sdk-client-mock replaces
 * `send`, so the SDK's retry middleware never runs under it; retries can
 * only be proven one level lower, where the real client sees real
 * responses. `answers` are served in order (the last one repeats).
 */
function fakeHandler(answers: { status: number; body: string }[]) {
  const seen: string[] = [];
  const handler = {
    async handle(request: { body?: string }) {
      seen.push(String(request.body ?? ""));
      const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      return { response: { statusCode: a.status, headers: { "content-type": "text/xml" }, body: Readable.from([Buffer.from(a.body)]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  return { handler, seen };
}

const ec2Error = (code: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>slow down</Message></Error></Errors><RequestID>r1</RequestID></Response>`;
const vpcBody = `<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><vpcSet><item><vpcId>vpc-123</vpcId><cidrBlock>10.42.0.0/16</cidrBlock><state>available</state></item></vpcSet></DescribeVpcsResponse>`;

function realEc2(handler: unknown) {
  // The same retry configuration as createAwsClients, with a fake transport.
  return new EC2Client({
    region: "us-east-1",
    maxAttempts: MAX_ATTEMPTS,
    retryMode: "standard",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    requestHandler: handler as never,
  });
}


describe("SDK retries (standard mode, real client)", () => {
  it("retries throttling and then succeeds", async () => {
    const { handler, seen } = fakeHandler([
      { status: 503, body: ec2Error("RequestLimitExceeded") },
      { status: 400, body: ec2Error("Throttling") },
      { status: 200, body: vpcBody },
    ]);
    const ec2 = realEc2(handler);
    const kind = vpcKind({ clients: clientsWith({ ec2 }), region: "us-east-1" });
    await expect(kind.read("vpc-123", undefined)).resolves.toEqual({ vpcId: "vpc-123", cidr: "10.42.0.0/16" });
    expect(seen).toHaveLength(3);
    expect(seen[0]).toContain("Action=DescribeVpcs");
  });

  it("gives up after MAX_ATTEMPTS and names the resource", async () => {
    // A transient server error (shorter backoff than throttling, so the test stays quick).
    const { handler, seen } = fakeHandler([{ status: 500, body: ec2Error("InternalError") }]);
    const kind = vpcKind({ clients: clientsWith({ ec2: realEc2(handler) }), region: "us-east-1" });
    await expect(kind.read("vpc-123", undefined)).rejects.toThrow(/^read aws\.ec2\.vpc "vpc-123" in us-east-1: InternalError/);
    expect(seen).toHaveLength(MAX_ATTEMPTS);
  }, 30_000);

  it("does not retry a client fault", async () => {
    const { handler, seen } = fakeHandler([{ status: 400, body: ec2Error("InvalidParameterValue") }]);
    const kind = vpcKind({ clients: clientsWith({ ec2: realEc2(handler) }), region: "us-east-1" });
    await expect(kind.create({ cidr: "10.42.0.0/16" }, { token: "t", tags: { ...tags, key: "vpc" }, ...noProgress })).rejects.toThrow(
      /^create aws\.ec2\.vpc "vpc" in us-east-1: InvalidParameterValue/,
    );
    expect(seen).toHaveLength(1);
  });
});

