import { createHash } from "node:crypto";
import type { sqladmin_v1 } from "googleapis/build/src/apis/sqladmin/v1.js";
import type { ResourceKind } from "../../engine/types.js";
import { PilotError } from "../../errors.js";
import { isAlreadyExists } from "./errors.js";
import { actions, attempt, createOrAdopt, firstOwned, hasStackLabels, orGone, stackLabels, waitFor, waitSqlOp, whenInstanceIdle, type GcpKindEnv, type SqlOperation } from "./shared.js";

/** Desired Cloud SQL PostgreSQL instance: private IP only, TLS required, backups on. */
export interface SqlInstanceSpec {
  /** "pilot-<stack>"; create() appends a suffix derived from the node's token. */
  namePrefix: string;
  tier: string;
  databaseVersion: string;
  networkSelfLink: string;
  diskGb: number;
}

/** The instance as recorded in state (id = instance name). */
export interface SqlInstanceOut {
  name: string;
  state: string;
  tier: string;
  databaseVersion: string;
  network: string;
  privateIp?: string;
  connectionName?: string;
  /** Posture, read back so drift (a public IP switched on, TLS relaxed, backups off) is seen. */
  ipv4Enabled: boolean;
  sslMode: string;
  backups: boolean;
}

const TYPE = "gcp.sql.instance";
/** Cloud SQL usually needs 10-20 minutes; a final backup of a big database longer. */
const CREATE_TIMEOUT_MS = 60 * 60_000;
const DELETE_TIMEOUT_MS = 60 * 60_000;
const POLL_MS = 15_000;
/** How long teardown's final backup is kept (Cloud SQL keeps it after the instance is gone). */
export const FINAL_BACKUP_DAYS = 30;
const SSL_MODE = "ENCRYPTED_ONLY";
/** States an instance does not leave by waiting. */
const BROKEN_STATES = ["FAILED", "SUSPENDED", "MAINTENANCE_FAILED"];

/**
 * "pilot-<stack>-<8 hex>": Cloud SQL will not reuse a deleted instance's name
 * for up to a week, so each lineage of the node gets its own; the suffix is a
 * hash of the node's token, the same when a crashed create is retried.
 */
export function sqlInstanceName(prefix: string, token: string): string {
  return `${prefix}-${createHash("sha256").update(token).digest("hex").slice(0, 8)}`;
}

function toOut(i: sqladmin_v1.Schema$DatabaseInstance): SqlInstanceOut {
  const ip = i.settings?.ipConfiguration;
  return {
    name: i.name!,
    state: i.state ?? "UNKNOWN",
    tier: i.settings?.tier ?? "",
    databaseVersion: i.databaseVersion ?? "",
    network: ip?.privateNetwork ?? "",
    privateIp: i.ipAddresses?.find((a) => a.type === "PRIVATE")?.ipAddress ?? undefined,
    connectionName: i.connectionName ?? undefined,
    ipv4Enabled: ip?.ipv4Enabled === true,
    sslMode: ip?.sslMode ?? (ip?.requireSsl ? SSL_MODE : "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
    backups: i.settings?.backupConfiguration?.enabled === true,
  };
}

/** The posture every Pilot database has; written on create and put back by update. */
function posture(spec: SqlInstanceSpec): sqladmin_v1.Schema$Settings {
  return {
    tier: spec.tier,
    ipConfiguration: { ipv4Enabled: false, privateNetwork: networkPath(spec.networkSelfLink), sslMode: SSL_MODE },
    backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true, startTime: "03:00" },
  };
}

/** How the instance's posture differs from the spec's, or undefined when it does not. */
function postureDrift(spec: SqlInstanceSpec, out: SqlInstanceOut): string | undefined {
  if (spec.tier !== out.tier) return `tier ${out.tier} → ${spec.tier}`;
  if (out.ipv4Enabled) return "a public IPv4 address was switched on";
  if (out.sslMode !== SSL_MODE) return `TLS is not required (${out.sslMode})`;
  if (!out.backups) return "automated backups are off";
  return undefined;
}

/** Options fixed per run: teardown's --skip-final-snapshot. */
export interface SqlInstanceOptions {
  skipFinalSnapshot: boolean;
}

/**
 * The stack's PostgreSQL on Cloud SQL, reachable only inside the network
 * (and through the VPC connector from Cloud Run). Creating and deleting show
 * the instance's own state and the elapsed time while they wait.
 */
export function sqlInstanceKind(env: GcpKindEnv, opts: SqlInstanceOptions): ResourceKind<SqlInstanceSpec, SqlInstanceOut> {
  const { sql } = env.clients;
  const act = actions(TYPE, env.region);
  const get = (name: string) => orGone(async () => (await sql.instances.get({ project: env.project, instance: name })).data);
  const stateOf = async (name: string) => (await get(name))?.state ?? undefined;

  async function untilRunnable(action: string, name: string, progress: (m: string) => void) {
    const i = await attempt(action, () =>
      waitFor(env, { what: `Cloud SQL instance ${name} to be RUNNABLE`, intervalMs: POLL_MS, timeoutMs: CREATE_TIMEOUT_MS, progress }, async () => {
        const x = await get(name);
        if (!x) throw new PilotError(`Cloud SQL instance ${name} disappeared while being created.`);
        if (BROKEN_STATES.includes(x.state ?? "")) {
          throw new PilotError(`Cloud SQL instance ${name} is ${x.state}.`, { hint: "Look at its operations in the Cloud SQL console, then run `pilot teardown`." });
        }
        return { done: x.state === "RUNNABLE", status: x.state ?? "UNKNOWN", value: x };
      }),
    );
    return i!;
  }

  /** Waits for an operation on the instance, then (one read when it is done) until the instance is RUNNABLE. */
  async function waitRunnable(action: string, op: SqlOperation, name: string, progress: (m: string) => void = () => undefined) {
    await attempt(action, () => waitSqlOp(env, op, { what: `Cloud SQL instance ${name}`, progress, intervalMs: POLL_MS, timeoutMs: CREATE_TIMEOUT_MS, status: () => stateOf(name) }));
    return untilRunnable(action, name, progress);
  }

  return {
    type: TYPE,
    async read(id) {
      const i = await attempt(act("read", id), () => get(id));
      return i ? toOut(i) : undefined;
    },
    async find(tags, spec) {
      return attempt(act("find", tags.key), async () => {
        // The name's suffix is unknown after a crash: look through the project's instances for our labels
        // (client-side: a label key with hyphens is not something to trust to a server-side filter).
        let pageToken: string | undefined;
        do {
          const res = await sql.instances.list({ project: env.project, pageToken });
          const i = firstOwned(res.data.items, (x) => hasStackLabels(x.settings?.userLabels, tags) && (!spec || x.name!.startsWith(`${spec.namePrefix}-`)));
          if (i) return { id: i.name!, out: toOut(i) };
          pageToken = res.data.nextPageToken ?? undefined;
        } while (pageToken);
        return undefined;
      });
    },
    async create(spec, ctx) {
      const name = sqlInstanceName(spec.namePrefix, ctx.token);
      const action = act("create", ctx.tags.key);
      const result = await createOrAdopt({
        action: `${action} (${name})`,
        name: `Cloud SQL instance ${name}`,
        create: async () =>
          (
            await sql.instances.insert({
              project: env.project,
              requestBody: {
                name,
                region: env.region,
                databaseVersion: spec.databaseVersion,
                settings: {
                  ...posture(spec),
                  edition: "ENTERPRISE",
                  availabilityType: "ZONAL",
                  dataDiskType: "PD_SSD",
                  dataDiskSizeGb: String(spec.diskGb),
                  storageAutoResize: true,
                  deletionProtectionEnabled: false,
                  userLabels: stackLabels(ctx.tags),
                },
              },
            })
          ).data,
        isAlreadyExists,
        existing: () => get(name),
        isOurs: (i) => hasStackLabels(i.settings?.userLabels, ctx.tags),
        hint: "Cloud SQL does not reuse an instance name for up to a week after deletion; run `pilot teardown` and create the stack again.",
      });
      ctx.progress(`creating ${name}`);
      // An adopted instance may still be starting: wait until it is usable either way.
      const i = result.created ? await waitRunnable(action, result.created, name, ctx.progress) : await untilRunnable(action, name, ctx.progress);
      return { id: name, out: toOut(i) };
    },
    async delete(id, _out, ctx) {
      const action = act("delete", ctx.tags.key);
      const withBackup = !opts.skipFinalSnapshot;
      const op = await attempt(action, () =>
        orGone(() =>
          whenInstanceIdle(
            env,
            async () => (await sql.instances.delete({ project: env.project, instance: id, ...(withBackup ? { enableFinalBackup: true, finalBackupTtlDays: String(FINAL_BACKUP_DAYS) } : {}) })).data,
            ctx.progress,
          ),
        ),
      );
      if (!op) return;
      const note = withBackup ? `final backup kept ${FINAL_BACKUP_DAYS} days` : "no final backup";
      ctx.progress(`deleting ${id}, ${note}`);
      await attempt(action, () =>
        waitSqlOp(env, op, {
          what: `delete Cloud SQL instance ${id}`,
          progress: (m) => ctx.progress(`${m}, ${note}`),
          intervalMs: POLL_MS,
          timeoutMs: DELETE_TIMEOUT_MS,
          status: async () => (await stateOf(id)) ?? "deleted",
        }),
      );
      if (withBackup) ctx.progress(`deleted; its final backup is kept ${FINAL_BACKUP_DAYS} days`);
    },
    diff(spec, out) {
      if (networkPath(spec.networkSelfLink) !== networkPath(out.network)) return { result: "replace", reason: "the private network changed" };
      // Adopted from an interrupted run while Google is still creating it: its database, user and
      // private address do not exist yet, so it is waited for before anything uses it.
      if (out.state === "PENDING_CREATE") return { result: "update", reason: "still being created; waiting until it is RUNNABLE" };
      const drift = postureDrift(spec, out);
      // A tier change restarts the instance (minutes without a database): asked for like a replace.
      return drift ? { result: "update", reason: drift, ...(spec.tier !== out.tier ? { disruptive: true } : {}) } : { result: "same" };
    },
    async update(id, spec, out) {
      // Patched in place (never replaced): replacing a database would lose its data.
      const action = act("update", id);
      const current = out.state === "PENDING_CREATE" ? toOut(await untilRunnable(action, id, () => undefined)) : out;
      if (current !== out && !postureDrift(spec, current)) return current;
      const op = await attempt(action, () => whenInstanceIdle(env, async () => (await sql.instances.patch({ project: env.project, instance: id, requestBody: { settings: posture(spec) } })).data));
      return toOut(await waitRunnable(action, op, id));
    },
  };

}

/** "projects/P/global/networks/N", whether given as a Compute selfLink or as Cloud SQL stores it. */
export function networkPath(url: string): string {
  const at = url.indexOf("projects/");
  return at >= 0 ? url.slice(at) : url;
}
