/**
 * An app's ECR repository (ecs target): created by `pilot new app`, tagged
 * like every AWS resource of the stack, scanned on push, and adopted (not
 * duplicated) when a repository of that name already carries this stack's
 * tags, e.g. after a run that crashed before it wrote state. `pilot teardown`
 * deletes it with its images.
 *
 * The ECR client is imported here and only here, and this module is loaded
 * lazily, so `pilot --help` loads no AWS SDK.
 */
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ListTagsForResourceCommand,
  type Repository,
} from "@aws-sdk/client-ecr";
import type { StackTags } from "../engine/types.js";
import { ecrRepositoryPrefix } from "../providers/aws/app-names.js";
import { attempt, createOrAdopt, describeAction, hasStackTags, isErrorCode, stackTagList } from "../providers/aws/shared.js";
import { clientConfig } from "../providers/aws/client-config.js";

export const ECR_TYPE = "aws.ecr.repository";

/** "pilot-<stack>/<project>/<app>": one repository per app, grouped under the stack's prefix. */
export function ecrRepositoryName(stack: string, project: string, app: string): string {
  return `${ecrRepositoryPrefix(stack)}${project}/${app}`;
}

/** The node-key-like tag value of an app's repository ("app/shop/web"), so find-by-tags tells apps apart. */
export function ecrTagKey(project: string, app: string): string {
  return `app/${project}/${app}`;
}

/** Configured as every AWS client is (client-config.ts), without loading the provider's other SDKs. */
export function createEcrClient(region: string): ECRClient {
  return new ECRClient(clientConfig(region));
}

export interface EcrRepository {
  name: string;
  /** ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME: what images are pushed as. */
  uri: string;
  arn: string;
  /** False when an existing repository with this stack's tags was adopted. */
  created: boolean;
}

function toRepository(r: Repository, created: boolean): EcrRepository {
  return { name: r.repositoryName!, uri: r.repositoryUri!, arn: r.repositoryArn!, created };
}

/** Creates the app's repository, or adopts one of that name whose tags say it is this stack's. */
export async function ensureAppRepository(ecr: ECRClient, opts: { region: string; name: string; tags: StackTags }): Promise<EcrRepository> {
  const action = describeAction("create", ECR_TYPE, opts.name, opts.region);
  const result = await createOrAdopt({
    action,
    name: `ECR repository ${opts.name}`,
    create: async () =>
      (
        await ecr.send(
          new CreateRepositoryCommand({
            repositoryName: opts.name,
            // Tagged in the create call itself: no window in which it exists untagged.
            tags: stackTagList(opts.tags),
            imageScanningConfiguration: { scanOnPush: true },
            // `latest` moves with every build (src/apps/hcl.ts IMAGE_TAG).
            imageTagMutability: "MUTABLE",
            encryptionConfiguration: { encryptionType: "AES256" },
          }),
        )
      ).repository!,
    isAlreadyExists: (err) => isErrorCode(err, "RepositoryAlreadyExistsException"),
    existing: async () => {
      const found = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [opts.name] }))).repositories?.[0];
      if (!found) return undefined;
      const tags = (await ecr.send(new ListTagsForResourceCommand({ resourceArn: found.repositoryArn }))).tags;
      return { repository: found, tags };
    },
    isOurs: (e) => hasStackTags(e.tags, opts.tags),
    hint: "Delete that repository, or pick another --app or --project name.",
  });
  return result.created ? toRepository(result.created, true) : toRepository(result.adopted.repository, false);
}

/** Deletes an app's repository and the images in it; one already gone counts as deleted. */
export async function deleteAppRepository(ecr: ECRClient, opts: { region: string; name: string }): Promise<void> {
  await attempt(describeAction("delete", ECR_TYPE, opts.name, opts.region), async () => {
    try {
      // force: the repository still holds the app's images, and they go with it.
      await ecr.send(new DeleteRepositoryCommand({ repositoryName: opts.name, force: true }));
    } catch (err) {
      if (!isErrorCode(err, "RepositoryNotFoundException")) throw err;
    }
  });
}
