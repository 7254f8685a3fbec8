/** The generated database password, shared by every cloud provider. */
import { randomInt } from "node:crypto";

/** Database password alphabet: letters and digits only, so it needs no quoting in a URL or a shell. */
const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A 32-character random password from a CSPRNG (about 190 bits). */
export function generatePassword(length = 32): string {
  let out = "";
  for (let i = 0; i < length; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}
