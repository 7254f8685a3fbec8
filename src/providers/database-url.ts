/**
 * A libpq connection URL: user and password percent-encoded (a generated
 * password may hold URL delimiters), TLS required where the server requires it.
 */
export function postgresUrl(db: { user: string; host: string; port: number; database: string; requireTls?: boolean }, password: string): string {
  const auth = `${encodeURIComponent(db.user)}:${encodeURIComponent(password)}`;
  return `postgres://${auth}@${db.host}:${db.port}/${encodeURIComponent(db.database)}${db.requireTls ? "?sslmode=require" : ""}`;
}

/** A stack's database as an app reaches it (src/providers/types.ts DatabaseInfo, without the secret's key). */
export interface DatabaseAddress {
  user: string;
  host: string;
  port: number;
  database: string;
  requireTls?: boolean;
}

/**
 * The variables an app with `--with-db` gets, in this order; PGSSLMODE only where the
 * server requires TLS (Cloud SQL; never an AWS stack, whose ECS apps name exactly these).
 */
export const DATABASE_VARIABLE_NAMES = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"] as const;

/** DATABASE_URL and libpq's PG* variables for an app given the stack's database. */
export function databaseVariables(db: DatabaseAddress, password: string): Record<string, string> {
  return {
    DATABASE_URL: postgresUrl(db, password),
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGUSER: db.user,
    PGPASSWORD: password,
    PGDATABASE: db.database,
    ...(db.requireTls ? { PGSSLMODE: "require" } : {}),
  };
}
