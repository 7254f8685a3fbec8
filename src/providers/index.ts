import { UsageError } from "../errors.js";
import type { ProviderName } from "../state/schema.js";
import type { Provider, ProviderContext } from "./types.js";

export const PROVIDERS: ProviderName[] = ["aws", "gcp", "local"];

/** Imports the named provider on demand: cloud SDKs load only when a command needs them. */
export async function loadProvider(name: string, ctx: ProviderContext): Promise<Provider<any>> {
  switch (name) {
    case "aws":
      return (await import("./aws/provider.js")).createAwsProvider(ctx);
    case "local":
      return (await import("./local/provider.js")).createLocalProvider(ctx);
    case "gcp":
      return (await import("./gcp/provider.js")).createGcpProvider(ctx);
    default:
      throw new UsageError(`Unknown provider "${name}".`, `Use one of: ${PROVIDERS.join(", ")}.`);
  }
}
