import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  StartDBInstanceCommand,
  paginateDescribeDBInstances,
  type DBInstance,
} from "@aws-sdk/client-rds";
import { createHash } from "node:crypto";
import type { ResourceKind } from "../../engine/types.js";
import { PilotError, wrapError } from "../../errors.js";
import type { Secret } from "../../secret.js";
import {
  actions,
  attempt,
  createOrAdopt,
  firstOwned,
  hasStackTags,
  isErrorCode,
  orGone,
  sameSet,
  stackTagList,
  tagValue,
  TAG_STACK_ID,
  untilVisible,
  waitFor,
  type AwsKindEnv,
} from "./shared.js";

/** The database's master user and its first database. */
export const DB_USER = "pilot";
export const DB_NAME = "pilot";

/** Desired RDS PostgreSQL instance. */
export interface DbInstanceSpec {
  /** "pilot-<stack>"; create() appends a suffix derived from the node token. */
  identifierPrefix: string;
  instanceClass: string;
  subnetGroupName: string;
  securityGroupIds: string[];
  allocatedStorageGb: number;
  /** The master password from state.secrets; a Secret so a logged spec shows "[redacted]". */
  password: Secret | undefined;
}

/** The database as recorded in state (id = DB instance identifier). */
export interface DbInstanceOut {
  identifier: string;
  arn?: string;
  status: string;
  instanceClass: string;
  securityGroupIds: string[];
  engineVersion?: string;
  /** Host name inside the VPC; set once the instance is available. */
  endpoint?: string;
  port?: number;
  /** Posture read back on every refresh, so a change made outside Pilot shows as drift. */
  publiclyAccessible?: boolean;
  storageEncrypted?: boolean;
  deletionProtection?: boolean;
  /** Names of changes RDS has accepted but not applied yet (PendingModifiedValues). */
  pending?: string[];
}

const TYPE = "aws.rds.instance";
const GONE = ["DBInstanceNotFoundFault", "DBInstanceNotFound"];

/**
 * The PostgreSQL major version, pinned: RDS's default moves with each
 * release, and a database made by one run must match the next run's spec.
 * RDS picks the newest minor version of it.
 */
export const POSTGRES_MAJOR = "16";

/** Generous on purpose: RDS usually needs 3-10 minutes, a final snapshot of a big database much longer. */
const CREATE_TIMEOUT_MS = 60 * 60_000;
const DELETE_TIMEOUT_MS = 60 * 60_000;
const POLL_MS = 15_000;
/** How long a database just created may answer not-found before that counts. */
const VISIBLE = { intervalMs: 5_000, timeoutMs: 2 * 60_000 };

/**
 * "pilot-<stack>-<8 hex>": the suffix is a hash of the node's token, so it is
 * random per stack yet the same when a crashed create is retried. RDS wants
 * lowercase letters, digits and single hyphens, a letter first, 63 at most.
 */
export function dbIdentifier(prefix: string, token: string): string {
  const suffix = createHash("sha256").update(token).digest("hex").slice(0, 8);
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 54)
    .replace(/-$/, "");
  return `${clean || "pilot"}-${suffix}`;
}

/** "<identifier>-final-<yyyymmddhhmm>" (UTC), the snapshot teardown leaves behind. */
export function finalSnapshotName(identifier: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, "").slice(0, 12);
  return `${identifier}-final-${stamp}`;
}

function toOut(db: DBInstance): DbInstanceOut {
  return {
    identifier: db.DBInstanceIdentifier!,
    arn: db.DBInstanceArn,
    status: db.DBInstanceStatus ?? "unknown",
    instanceClass: db.DBInstanceClass!,
    securityGroupIds: (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).sort(),
    engineVersion: db.EngineVersion,
    endpoint: db.Endpoint?.Address,
    port: db.Endpoint?.Port,
    publiclyAccessible: db.PubliclyAccessible,
    storageEncrypted: db.StorageEncrypted,
    deletionProtection: db.DeletionProtection,
    pending: pendingChanges(db),
  };
}

/** The changes RDS still has to apply: PendingModifiedValues' set fields, by name. */
function pendingChanges(db: DBInstance): string[] | undefined {
  const names = Object.entries(db.PendingModifiedValues ?? {})
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => k)
    .sort();
  return names.length > 0 ? names : undefined;
}

/** Where the live database differs from what Pilot's spec and posture ask for, as ModifyDBInstance fields; empty when nothing. */
function modifications(spec: DbInstanceSpec, out: DbInstanceOut): { fields: Record<string, unknown>; reasons: string[] } {
  const fields: Record<string, unknown> = {};
  const reasons: string[] = [];
  if (spec.instanceClass !== out.instanceClass) {
    fields.DBInstanceClass = spec.instanceClass;
    reasons.push(`class ${out.instanceClass} → ${spec.instanceClass}`);
  }
  if (!sameSet(spec.securityGroupIds, out.securityGroupIds)) {
    fields.VpcSecurityGroupIds = spec.securityGroupIds;
    reasons.push("security groups differ");
  }
  if (out.publiclyAccessible === true) {
    fields.PubliclyAccessible = false;
    reasons.push("it was made publicly accessible");
  }
  if (out.deletionProtection === false) {
    fields.DeletionProtection = true;
    reasons.push("deletion protection is off");
  }
  return { fields, reasons };
}

/**
 * RDS statuses it does not leave by itself and that Pilot cannot repair in
 * place, each with what the user can do. Shown as drift (diff) and as the
 * hint of the update that refuses to go on.
 */
export const BROKEN_DB_STATUSES: Record<string, string> = {
  failed: "RDS could not recover it: look at its events in the RDS console, then restore it from a snapshot or remove it with `pilot teardown`",
  "incompatible-network":
    "RDS cannot place it in its subnets (no free addresses, or a subnet of the DB subnet group is gone): free addresses in the private subnets or repair the subnet group, then start it from the RDS console",
  "incompatible-parameters": "its parameter group holds values it cannot start with: reset the parameter group to compatible values and reboot it",
  "incompatible-option-group": "its option group cannot be applied: fix or replace the option group in the RDS console",
  "incompatible-restore": "a point-in-time restore failed: restore it again from the RDS console, or remove it with `pilot teardown`",
  "restore-error": "a restore failed: restore it again from the RDS console, or remove it with `pilot teardown`",
  "storage-full": "its allocated storage is used up: raise it (`aws rds modify-db-instance --allocated-storage ... --apply-immediately`), then run again",
  "inaccessible-encryption-credentials": "its KMS key is disabled or deleted: re-enable the key; if it was deleted, restore the database from a backup",
  "inaccessible-encryption-credentials-recoverable": "its KMS key is disabled: re-enable the key, then start the database from the RDS console",
  "insufficient-capacity": "RDS has no capacity for its class in this zone: try again later, or choose another --db-instance-class",
};

/** What to do with a database whose storage is not encrypted: RDS cannot encrypt one in place. */
const UNENCRYPTED_HINT =
  "RDS cannot encrypt it in place; take a snapshot, copy it with encryption on, restore the copy, and remove this one with `pilot teardown`";

/** Being deleted by someone else: nothing to wait for that Pilot could use. */
const DELETING_STATUSES = ["deleting", "delete-precheck"];
/** Stopped by someone (RDS also starts it again by itself after 7 days): started again. */
const STOPPED_STATUSES = ["stopped", "stopping"];
/**
 * Usable though not "available": storage optimization follows a storage
 * change, can take hours, and the database serves queries meanwhile.
 */
const USABLE_STATUSES = ["available", "storage-optimization"];

/** What diff and update make of a status: usable, broken, deleted or stopped by someone, or on its way (wait). */
function classify(status: string): "usable" | "broken" | "deleting" | "stopped" | "transitional" {
  if (USABLE_STATUSES.includes(status)) return "usable";
  if (status in BROKEN_DB_STATUSES) return "broken";
  if (DELETING_STATUSES.includes(status)) return "deleting";
  if (STOPPED_STATUSES.includes(status)) return "stopped";
  // creating, backing-up, modifying, rebooting, starting, upgrading, maintenance, configuring-*, renaming, ...
  return "transitional";
}

/** The error for a database Pilot cannot use or repair in place. */
function unusable(action: string, id: string, status: string): PilotError {
  if (DELETING_STATUSES.includes(status)) {
    return new PilotError(`${action}: database ${id} is being deleted outside Pilot.`, {
      hint: "Wait until it is gone, then run again to create a new one (restore its final snapshot, if one was taken, to keep its data).",
    });
  }
  return new PilotError(`${action}: database ${id} is ${status}.`, { hint: `${capitalise(BROKEN_DB_STATUSES[status] ?? "look at its events in the RDS console")}.` });
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Options fixed per run: teardown's --skip-final-snapshot. */
export interface DbInstanceOptions {
  skipFinalSnapshot: boolean;
}

/**
 * The stack's PostgreSQL: private (no public address), encrypted, in the DB
 * subnet group, reachable only through the database security group. Creating
 * and deleting report RDS's own status with the elapsed time while they wait.
 */
export function dbInstanceKind(env: AwsKindEnv, opts: DbInstanceOptions): ResourceKind<DbInstanceSpec, DbInstanceOut> {
  const { rds } = env.clients;
  const act = actions(TYPE, env.region);

  async function describe(id: string): Promise<DBInstance | undefined> {
    const res = await orGone(GONE, () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })));
    return res?.DBInstances?.[0];
  }

  /**
   * Waits for "available". `justCreated`: RDS may not list a database for a
   * moment after CreateDBInstance, so not-found then means "not visible yet"
   * (retried for a while), not "disappeared".
   */
  async function waitAvailable(action: string, id: string, progress?: (m: string) => void, justCreated = false, settled = false): Promise<DBInstance> {
    const db = await attempt(action, () =>
      waitFor(env, { what: `database ${id} to be available`, intervalMs: POLL_MS, timeoutMs: CREATE_TIMEOUT_MS, progress }, async () => {
        const db = justCreated ? await untilVisible(env, `database ${id}`, () => describe(id), VISIBLE) : await describe(id);
        if (!db) throw new PilotError(`database ${id} disappeared while being created.`);
        const status = db.DBInstanceStatus ?? "unknown";
        const kind = classify(status);
        if (kind === "broken" || kind === "deleting") throw unusable(action, id, status);
        // After ModifyDBInstance RDS may say "available" before it has even started the change.
        const pending = settled ? pendingChanges(db) : undefined;
        if (kind === "usable" && pending) return { done: false, status: `${status}, pending ${pending.join(", ")}`, value: db };
        return { done: kind === "usable", status, value: db };
      }),
    );
    return db!;
  }

  /**
   * Turns DeletionProtection off so DeleteDBInstance is accepted. RDS refuses
   * the change mid-transition (a database adopted while still being created):
   * then it waits until the database is usable and asks again; one already
   * being deleted needs nothing.
   */
  async function liftDeletionProtection(action: string, id: string): Promise<void> {
    const lift = () => orGone(GONE, () => rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, DeletionProtection: false, ApplyImmediately: true })));
    try {
      await lift();
    } catch (err) {
      if (!isErrorCode(err, "InvalidDBInstanceState")) throw wrapError(action, err);
      const db = await attempt(action, () => describe(id));
      if (!db || DELETING_STATUSES.includes(db.DBInstanceStatus ?? "") || db.DeletionProtection === false) return;
      await waitAvailable(action, id);
      await attempt(action, lift);
    }
  }

  return {
    type: TYPE,
    async read(id) {
      const db = await attempt(act("read", id), () => describe(id));
      return db ? toOut(db) : undefined;
    },
    async find(tags) {
      // RDS cannot filter instances by tag, but DescribeDBInstances returns each one's tags.
      return attempt(act("find", tags.key), async () => {
        for await (const page of paginateDescribeDBInstances({ client: rds }, {})) {
          const db = firstOwned(page.DBInstances, (d) => hasStackTags(d.TagList, tags));
          if (db) return { id: db.DBInstanceIdentifier!, out: toOut(db) };
        }
        return undefined;
      });
    },
    async create(spec, ctx) {
      const identifier = dbIdentifier(spec.identifierPrefix, ctx.token);
      const action = act("create", ctx.tags.key);
      if (!spec.password) throw new PilotError(`${action}: the database password has not been generated.`);
      const password = spec.password;
      // The same token gives the same identifier: an interrupted create of ours is adopted if its tags agree.
      await createOrAdopt({
        action: `${action} (${identifier})`,
        name: `a database named ${identifier}`,
        create: () =>
          rds.send(
            new CreateDBInstanceCommand({
              DBInstanceIdentifier: identifier,
              Engine: "postgres",
              EngineVersion: POSTGRES_MAJOR,
              DBInstanceClass: spec.instanceClass,
              AllocatedStorage: spec.allocatedStorageGb,
              StorageType: "gp3",
              StorageEncrypted: true,
              PubliclyAccessible: false,
              MultiAZ: false,
              DBSubnetGroupName: spec.subnetGroupName,
              VpcSecurityGroupIds: spec.securityGroupIds,
              MasterUsername: DB_USER,
              MasterUserPassword: password.reveal(),
              DBName: DB_NAME,
              Port: 5432,
              BackupRetentionPeriod: 7,
              CopyTagsToSnapshot: true,
              AutoMinorVersionUpgrade: true,
              // Not removable by a stray call; teardown lifts it only after the user confirmed.
              DeletionProtection: true,
              Tags: stackTagList(ctx.tags),
            }),
          ),
        isAlreadyExists: (err) => isErrorCode(err, "DBInstanceAlreadyExists"),
        existing: () => describe(identifier),
        isOurs: (db) => tagValue(db.TagList, TAG_STACK_ID) === ctx.tags.stackId,
        hint: "Delete or rename that database, or use another --name for this stack.",
      });
      ctx.progress(`creating ${identifier}`);
      const db = await waitAvailable(action, identifier, ctx.progress, true);
      return { id: identifier, out: toOut(db) };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      const snapshot = opts.skipFinalSnapshot ? undefined : finalSnapshotName(id, new Date(env.now?.() ?? Date.now()));
      let deleting = false;
      // Only reached once the user confirmed the removal (teardown, or a plan they accepted).
      await liftDeletionProtection(action, id);
      try {
        await rds.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: id,
            SkipFinalSnapshot: snapshot === undefined,
            FinalDBSnapshotIdentifier: snapshot,
          }),
        );
        deleting = true;
      } catch (err) {
        if (isErrorCode(err, ...GONE)) return;
        // A second teardown while the first one's delete is still running: just wait for it.
        const busy = isErrorCode(err, "InvalidDBInstanceState") && /already being deleted/i.test(String((err as Error).message));
        if (!busy) throw wrapError(action, err);
      }
      const note = deleting && snapshot ? `final snapshot ${snapshot}` : deleting ? "no final snapshot" : "already being deleted";
      ctx.progress(`deleting ${id}, ${note}`);
      await attempt(action, () =>
        waitFor(
          env,
          { what: `database ${id} to be deleted`, intervalMs: POLL_MS, timeoutMs: DELETE_TIMEOUT_MS, progress: (m) => ctx.progress(`${m}, ${note}`) },
          async () => {
            const db = await describe(id);
            return { done: !db, status: db?.DBInstanceStatus ?? "deleted" };
          },
        ),
      );
      if (snapshot && deleting) ctx.progress(`deleted; final snapshot ${snapshot} kept`);
    },
    diff(spec, out) {
      // Not usable as it is (adopted after a crash, or changed outside Pilot): never "same".
      switch (classify(out.status)) {
        case "broken":
          return { result: "update", reason: `database is ${out.status}: ${BROKEN_DB_STATUSES[out.status]}` };
        case "deleting":
          return { result: "update", reason: `database is being deleted outside Pilot (${out.status}): wait until it is gone, then run again` };
        case "stopped":
          return { result: "update", reason: `database is ${out.status}; starting it` };
        case "transitional":
          return {
            result: "update",
            reason: out.status === "creating" ? "still being created; waiting until it is available" : `database is ${out.status}; waiting until it is available`,
          };
        case "usable":
          break;
      }
      if (out.storageEncrypted === false) return { result: "update", reason: `storage is not encrypted: ${UNENCRYPTED_HINT}` };
      const { fields, reasons } = modifications(spec, out);
      // A class change on a single-AZ database, applied at once, takes it down for minutes: asked for like a replace.
      if (reasons.length > 0) return { result: "update", reason: reasons.join("; "), ...("DBInstanceClass" in fields ? { disruptive: true } : {}) };
      if (out.pending) return { result: "update", reason: `changes still pending (${out.pending.join(", ")}); waiting until they are applied` };
      return { result: "same" };
    },
    async update(id, spec, out) {
      // Modified in place (never replaced): replacing a database would lose its data.
      const action = act("update", id);
      let current = out;
      const kind = classify(current.status);
      if (kind === "broken" || kind === "deleting") throw unusable(action, id, current.status);
      if (kind === "stopped") {
        if (current.status === "stopping") {
          await attempt(action, () =>
            waitFor(env, { what: `database ${id} to be stopped`, intervalMs: POLL_MS, timeoutMs: CREATE_TIMEOUT_MS }, async () => {
              const db = await describe(id);
              if (!db) throw new PilotError(`database ${id} disappeared while stopping.`);
              const status = db.DBInstanceStatus ?? "unknown";
              return { done: status !== "stopping", status };
            }),
          );
        }
        await attempt(action, () =>
          orGone(["InvalidDBInstanceState"], () => rds.send(new StartDBInstanceCommand({ DBInstanceIdentifier: id }))),
        );
      }
      // Adopted (or read again) while on its way: wait until it is usable, so its endpoint is recorded.
      if (kind !== "usable" || !current.endpoint) current = toOut(await waitAvailable(action, id));
      if (current.storageEncrypted === false) throw new PilotError(`${action}: database ${id} is not encrypted.`, { hint: capitalise(UNENCRYPTED_HINT) + "." });
      const { fields } = modifications(spec, current);
      if (Object.keys(fields).length === 0) return current.pending ? toOut(await waitAvailable(action, id, undefined, false, true)) : current;
      await attempt(action, () => rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, ...fields, ApplyImmediately: true })));
      // Read back only once RDS has applied every change, not at the first "available".
      return toOut(await waitAvailable(action, id, undefined, false, true));
    },
  };
}
