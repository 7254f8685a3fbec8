import { execFile } from "node:child_process";

/** One local prerequisite and whether it is there. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function probe(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000 }, (err, stdout) => resolve(err ? undefined : stdout.trim()));
  });
}

/** What `pilot init` reports: none is required for every provider, so these inform rather than fail. */
export async function checkPrerequisites(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const [major] = process.versions.node.split(".").map(Number);
  const docker = await probe("docker", ["version", "--format", "{{.Server.Version}}"]);
  const ssh = await probe("ssh", ["-V"]);
  const awsCreds = Boolean(env.AWS_PROFILE || env.AWS_ACCESS_KEY_ID || env.AWS_CONFIG_FILE);
  return [
    { name: "node", ok: major >= 20, detail: `v${process.versions.node}${major >= 20 ? "" : " (Pilot needs 20 or later)"}` },
    { name: "docker (for --provider local)", ok: Boolean(docker), detail: docker ? `engine ${docker}` : "no Docker engine answered" },
    { name: "ssh client (for pilot server --ssh)", ok: ssh !== undefined, detail: ssh !== undefined ? "found" : "not found" },
    { name: "AWS credentials (for --provider aws)", ok: awsCreds, detail: awsCreds ? "configured in the environment" : "none in the environment (~/.aws may still have some)" },
  ];
}
