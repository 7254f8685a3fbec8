import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { RDSClient } from "@aws-sdk/client-rds";
import { STSClient } from "@aws-sdk/client-sts";
import { clientConfig } from "./client-config.js";

export { CONNECTION_TIMEOUT_MS, MAX_ATTEMPTS, REQUEST_HANDLER, REQUEST_TIMEOUT_MS, clientConfig } from "./client-config.js";

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
 * Creates the clients for a region. Credentials come from the SDK's default
 * chain (env, profile, SSO, IMDS). The endpoint is left to the SDK: v3
 * honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) itself, which
 * is how tests and `npm run demo` point every client at moto.
 */
export function createAwsClients(region: string): AwsClients {
  const config = clientConfig(region);
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
