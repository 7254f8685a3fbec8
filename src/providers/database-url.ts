/**
 * A libpq connection URL: user and password percent-encoded (a generated
 * password may hold URL delimiters), TLS required where the server requires it.
 */
export function postgresUrl(db: { user: string; host: string; port: number; database: string; requireTls?: boolean }, password: string): string {
  const auth = `${encodeURIComponent(db.user)}:${encodeURIComponent(password)}`;
  return `postgres://${auth}@${db.host}:${db.port}/${encodeURIComponent(db.database)}${db.requireTls ? "?sslmode=require" : ""}`;
}
