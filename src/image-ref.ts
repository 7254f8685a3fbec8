import { UsageError } from "./errors.js";

const IMAGE_REF = /^[a-z0-9][a-z0-9._\-/:@]*$/i;

/** Checks a Docker image reference given on the command line, before anything runs. */
export function checkImageRef(flag: string, value: string, example: string): string {
  if (!IMAGE_REF.test(value)) {
    throw new UsageError(`Invalid image reference "${value}" for --${flag}.`, `Use a Docker image name such as ${example}.`);
  }
  return value;
}
