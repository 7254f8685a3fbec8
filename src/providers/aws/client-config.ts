/**
 * How every AWS SDK client Pilot makes is configured: the provider's shared
 * clients (clients.ts) and the ones only some commands load (ECR, ECS,
 * CloudWatch Logs, SSM, IAM for the apps). No SDK is imported here, so a
 * module that needs one client does not load the others.
 */

/**
 * Retries are the SDK's own "standard" mode (exponential backoff with jitter,
 * throttling and transient errors only: 5xx, timeouts, connection resets);
 * five attempts ride out the RequestLimitExceeded bursts that the stack's
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

/** The options of one client for `region`; the endpoint is left to the SDK (AWS_ENDPOINT_URL). */
export function clientConfig(region: string) {
  return { region, maxAttempts: MAX_ATTEMPTS, retryMode: "standard", requestHandler: { ...REQUEST_HANDLER } } as const;
}
