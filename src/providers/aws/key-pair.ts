import { DeleteKeyPairCommand, DescribeKeyPairsCommand, ImportKeyPairCommand, type KeyPairInfo } from "@aws-sdk/client-ec2";
import type { ResourceKind } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import {
  actions,
  attempt,
  createOrAdopt,
  firstOwned,
  hasStackTags,
  isErrorCode,
  orGone,
  shortHash,
  stackTagList,
  tagFilters,
  tagValue,
  type AwsKindEnv,
} from "./shared.js";

/** Desired key pair: the name and the OpenSSH public key line Pilot generated locally. */
export interface KeyPairSpec {
  name: string;
  /** "ssh-ed25519 AAAA... comment"; empty when prepare() has not run yet (dry-run). */
  publicKey: string;
}

/** A key pair as recorded in state (id = key name, unique per region and carrying the lineage). */
export interface KeyPairOut {
  keyPairId: string;
  keyName: string;
  /** Hash of the imported public key, kept in a tag so a regenerated local key shows as drift in one read. */
  publicKeyHash?: string;
}

const TYPE = "aws.ec2.key-pair";
const GONE = ["InvalidKeyPair.NotFound"];
const TAG_PUBKEY = "pilot:public-key-sha256";

function toOut(k: KeyPairInfo): KeyPairOut {
  return { keyPairId: k.KeyPairId!, keyName: k.KeyName!, publicKeyHash: tagValue(k.Tags, TAG_PUBKEY) };
}

/** Normalises a public key line to "type base64" (no comment) before hashing, so comments don't count. */
function keyHash(publicKey: string): string {
  return shortHash(publicKey.trim().split(/\s+/).slice(0, 2).join(" "));
}

/**
 * The EC2 key pair imported from the stack's local ed25519 public key (the private key never leaves the machine).
 * It is addressed by name, which every EC2 implementation honours (moto ignores KeyPairIds). The name
 * carries the lineage; one already there is adopted when its tags say it is this node's, else refused.
 */
export function keyPairKind(env: AwsKindEnv): ResourceKind<KeyPairSpec, KeyPairOut> {
  const { ec2 } = env.clients;
  const act = actions(TYPE, env.region);

  /** The key pair by name; undefined when not found. */
  async function describe(name: string): Promise<KeyPairInfo | undefined> {
    const res = await orGone(GONE, () => ec2.send(new DescribeKeyPairsCommand({ KeyNames: [name] })));
    return res?.KeyPairs?.find((p) => p.KeyName === name);
  }

  return {
    type: TYPE,
    async read(id) {
      const k = await attempt(act("read", id), () => describe(id));
      return k ? toOut(k) : undefined;
    },
    async find(tags) {
      const res = await attempt(act("find", tags.key), () => ec2.send(new DescribeKeyPairsCommand({ Filters: tagFilters(tags) })));
      const k = firstOwned(res.KeyPairs);
      return k ? { id: k.KeyName!, out: toOut(k) } : undefined;
    },
    async create(spec, ctx) {
      const action = act("create", ctx.tags.key);
      if (!spec.publicKey) throw new PilotError(`${action}: the stack's SSH public key has not been generated.`);
      const hash = keyHash(spec.publicKey);
      const res = await createOrAdopt({
        action,
        name: `a key pair named ${spec.name}`,
        create: () =>
          ec2.send(
            new ImportKeyPairCommand({
              KeyName: spec.name,
              PublicKeyMaterial: Buffer.from(spec.publicKey.trim()),
              TagSpecifications: [{ ResourceType: "key-pair", Tags: [...stackTagList(ctx.tags), { Key: TAG_PUBKEY, Value: hash }] }],
            }),
          ),
        isAlreadyExists: (err) => isErrorCode(err, "InvalidKeyPair.Duplicate"),
        existing: () => describe(spec.name),
        // Ours from an interrupted run: adopted (a different public key then shows in diff as a replacement).
        isOurs: (k) => hasStackTags(k.Tags, ctx.tags),
        hint: "Delete that key pair, or use another --name for this stack.",
      });
      if (res.adopted) return { id: spec.name, out: toOut(res.adopted) };
      const created = res.created;
      return { id: spec.name, out: { keyPairId: created.KeyPairId!, keyName: created.KeyName ?? spec.name, publicKeyHash: hash } };
    },
    async delete(id, _out, ctx) {
      await attempt(act("delete", ctx.tags.key), () => orGone(GONE, () => ec2.send(new DeleteKeyPairCommand({ KeyName: id }))));
    },
    // Re-imported under the same name: the server, which names it, stays (EC2 reads the key only at launch).
    knownOutputs: (spec) => ({ keyName: spec.name }),
    diff(spec, out) {
      if (!spec.publicKey) return { result: "same" };
      if (spec.name !== out.keyName) return { result: "replace", reason: `name ${out.keyName} → ${spec.name}` };
      if (out.publicKeyHash && out.publicKeyHash !== keyHash(spec.publicKey)) {
        return { result: "replace", reason: "the local SSH key changed" };
      }
      return { result: "same" };
    },
  };
}
