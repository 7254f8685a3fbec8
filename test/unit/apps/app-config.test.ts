import { describe, expect, it } from "vitest";
import { checkConfigKey, checkConfigValue, databaseConfig } from "../../../src/apps/app-config.js";
import { UsageError } from "../../../src/errors.js";

describe("an app's configuration", () => {
  it("gives DATABASE_URL and libpq's PG* variables, TLS required where the database requires it", () => {
    const db = { host: "10.43.0.3", port: 5432, user: "pilot", database: "pilot", passwordSecret: "dbPassword" };
    expect(databaseConfig(db, "p@ss/word")).toEqual({
      DATABASE_URL: "postgres://pilot:p%40ss%2Fword@10.43.0.3:5432/pilot",
      PGHOST: "10.43.0.3",
      PGPORT: "5432",
      PGUSER: "pilot",
      PGPASSWORD: "p@ss/word",
      PGDATABASE: "pilot",
    });
    const tls = databaseConfig({ ...db, requireTls: true }, "pw");
    expect(tls.DATABASE_URL).toBe("postgres://pilot:pw@10.43.0.3:5432/pilot?sslmode=require");
    expect(tls.PGSSLMODE).toBe("require");
  });

  it("takes variable names and one-line values only (config set reads a line per variable)", () => {
    expect(checkConfigKey("API_URL")).toBe("API_URL");
    for (const bad of ["1X", "A-B", "", "A B"]) expect(() => checkConfigKey(bad), bad).toThrow(UsageError);
    expect(checkConfigValue("K", "a=b c")).toBe("a=b c");
    expect(() => checkConfigValue("K", "two\nlines")).toThrow(/spans lines/);
  });
});
