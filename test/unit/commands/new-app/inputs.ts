/** The inputs the golden files under this folder were written for: one app per target. */
import type { AppHclInput } from "../../../../src/apps/hcl.js";

const base = { stack: "default", project: "shop", app: "web", builder: "docker" as const, port: 8080 };

export const GOLDEN_INPUTS: Record<"docker" | "ecs" | "cloud-run", AppHclInput> = {
  // Local stack, no database: the docker platform on the stack's network, the CA folder bound read-only.
  docker: {
    ...base,
    provider: "local",
    withDb: false,
    serverAddress: "127.0.0.1:9701",
    deploy: { target: "docker", network: "pilot-default-net", caHostDir: "/home/dev/.pilot/stacks/default/server/ca", caContainerDir: "/pilot/ca", caContainerFile: "/pilot/ca/ca.pem" },
  },
  ecs: {
    ...base,
    provider: "aws",
    withDb: true,
    serverAddress: "203.0.113.10:9701",
    deploy: { target: "ecs", region: "eu-west-1", repository: "pilot-default/shop/web", subnets: ["subnet-0aaa", "subnet-0bbb"], appsGroupId: "sg-0ccc", lbGroupId: "sg-0ddd" },
  },
  "cloud-run": {
    ...base,
    builder: "pack",
    provider: "gcp",
    withDb: true,
    serverAddress: "203.0.113.20:9701",
    deploy: {
      target: "cloud-run",
      project: "my-project",
      region: "europe-west1",
      image: "europe-west1-docker.pkg.dev/my-project/pilot-default/web",
      connector: "projects/my-project/locations/europe-west1/connectors/pilot-default-0d9e8f7a",
      serviceAccount: "pilot-default-0d9e8f7a-run@my-project.iam.gserviceaccount.com",
    },
  },
};
