import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { RDSClient } from "@aws-sdk/client-rds";
import { STSClient } from "@aws-sdk/client-sts";

/**
 * The SDK clients one AWS provider uses, created once and shared by every
 * resource kind. Tests pass their own (mocked, or pointed at moto).
 */
export interface AwsClients {
  ec2: EC2Client;
  rds: RDSClient;
  iam: IAMClient;
  sts: STSClient;
}

/**
 * Retries are the SDK's own "standard" mode (exponential backoff with jitter,
 * throttling and transient errors only: 5xx, timeouts, connection resets);
 * five attempts ride out the RequestLimitExceeded bursts that a 16-node
 * parallel apply can cause. A retried create may have taken effect twice:
 * see lost-answers.ts.
 */
export const MAX_ATTEMPTS = 5;

/**
 * How long one attempt may wait for its answer before it counts as lost and
 * the SDK retries it (a TimeoutError is transient to the standard retry mode,
 * as is a connection reset). Without it the SDK would wait 15 minutes (EC2's
 * default socket timeout) on an answer that never comes. No call Pilot makes
 * takes seconds to answer: waits for slow resources poll instead.
 */
export const REQUEST_TIMEOUT_MS = 60_000;
/** How long opening a connection may take before the attempt is retried. */
export const CONNECTION_TIMEOUT_MS = 10_000;

/** The HTTP handler options every client gets (see REQUEST_TIMEOUT_MS). */
export const REQUEST_HANDLER = { requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true, connectionTimeout: CONNECTION_TIMEOUT_MS } as const;

/**
 * Creates the clients for a region. Credentials come from the SDK's default
 * chain (env, profile, SSO, IMDS). The endpoint is left to the SDK: v3
 * honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) itself, which
 * is how tests and `npm run demo` point every client at moto.
 */
export function createAwsClients(region: string): AwsClients {
  const config = { region, maxAttempts: MAX_ATTEMPTS, retryMode: "standard", requestHandler: { ...REQUEST_HANDLER } } as const;
  return {
    ec2: new EC2Client(config),
    rds: new RDSClient(config),
    iam: new IAMClient(config),
    sts: new STSClient(config),
  };
}

/** Closes the clients' sockets so the process can exit. */
export function destroyAwsClients(clients: AwsClients): void {
  clients.ec2.destroy();
  clients.rds.destroy();
  clients.iam.destroy();
  clients.sts.destroy();
}

/**
 * The default region: AWS_REGION, then AWS_DEFAULT_REGION (the AWS CLI's
 * variable, which SDK v3 itself ignores), then the SDK's own loader (the
 * active profile's `region` in ~/.aws/config). Undefined when none is set.
 */
export async function defaultRegion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.AWS_REGION) return env.AWS_REGION;
  if (env.AWS_DEFAULT_REGION) return env.AWS_DEFAULT_REGION;
  const probe = new STSClient({});
  try {
    const region = await probe.config.region();
    return region || undefined;
  } catch {
    // "Region is missing": no variable and no profile region.
    return undefined;
  } finally {
    probe.destroy();
  }
}
