/**
 * What `pilot up` hands an ECS app's job (issue 10): the app's SSM folder as
 * a map of variable name => parameter name, and the `-var` that carries it,
 * an HCL object expression Waypoint parses against the variable's declared
 * `map(string)` (the e2e tier checks that with the real binary).
 */
import { parse } from "@cdktf/hcl2json";
import { describe, expect, it } from "vitest";
import { hclObject, secretsFromParameterNames, secretsVarFlag } from "../../../src/apps/ecs-secrets.js";
import { undeclaredVariableHint, waypointUpArgs } from "../../../src/commands/up.js";
import type { AppState } from "../../../src/state/schema.js";

const FOLDER = "/pilot/prod/shop/web/";

describe("the secrets map pilot up builds from the app's SSM folder", () => {
  it("maps each variable to its parameter's name, sorted, whether just written, listed, or both", () => {
    const written = [`${FOLDER}DATABASE_URL`, `${FOLDER}PGPASSWORD`];
    const listed = [`${FOLDER}PGPASSWORD`, `${FOLDER}API_KEY`, `${FOLDER}DATABASE_URL`];
    expect(secretsFromParameterNames(FOLDER, [...written, ...listed])).toEqual({
      API_KEY: `${FOLDER}API_KEY`,
      DATABASE_URL: `${FOLDER}DATABASE_URL`,
      PGPASSWORD: `${FOLDER}PGPASSWORD`,
    });
    expect(Object.keys(secretsFromParameterNames(FOLDER, listed))).toEqual(["API_KEY", "DATABASE_URL", "PGPASSWORD"]);
  });

  it("leaves out what is not a variable of this app: another folder, a deeper path, a name no variable could have", () => {
    const names = [
      `${FOLDER}API_KEY`,
      "/pilot/prod/shop/web2/OTHER", // another app whose name starts the same
      "/pilot/prod/shop/OTHER",
      `${FOLDER}nested/DEEP`,
      `${FOLDER}1BAD`,
      `${FOLDER}with.dot`,
    ];
    expect(secretsFromParameterNames(FOLDER, names)).toEqual({ API_KEY: `${FOLDER}API_KEY` });
    expect(secretsFromParameterNames(FOLDER, [])).toEqual({});
  });
});

describe("the -var that carries it", () => {
  it("is one argv word: -var=NAME={\"K\" = \"V\", ...}, {} when the folder is empty", () => {
    expect(secretsVarFlag("pilot_secrets_web", { API_KEY: `${FOLDER}API_KEY`, DATABASE_URL: `${FOLDER}DATABASE_URL` })).toBe(
      `-var=pilot_secrets_web={"API_KEY" = "${FOLDER}API_KEY", "DATABASE_URL" = "${FOLDER}DATABASE_URL"}`,
    );
    expect(secretsVarFlag("pilot_secrets_web-api", {})).toBe("-var=pilot_secrets_web-api={}");
  });

  it("is an HCL object that HashiCorp's parser reads back as the same map", async () => {
    const map = secretsFromParameterNames(FOLDER, [`${FOLDER}DATABASE_URL`, `${FOLDER}API_KEY`, `${FOLDER}PGPORT`]);
    const doc = (await parse("v.hcl", `v = ${hclObject(map)}\n`)) as { v: Record<string, string> };
    expect(doc.v).toEqual(map);
  });

  it("escapes every key and value, so nothing in a name can end its string or start a template", () => {
    expect(hclObject({ 'a"b': "c\\d${e}%{f}" })).toBe('{"a\\"b" = "c\\\\d$${e}%%{f}"}');
  });
});

describe("pilot up's job", () => {
  const ref = { project: "shop", app: "web", key: "shop/web" };
  it("runs remotely, plain, with the secrets variable only when there is one", () => {
    expect(waypointUpArgs(ref)).toEqual(["up", "-project=shop", "-app=web", "-local=false", "-plain"]);
    expect(waypointUpArgs(ref, "-var=pilot_secrets_web={}")).toEqual(["up", "-project=shop", "-app=web", "-local=false", "-plain", "-var=pilot_secrets_web={}"]);
  });

  it("a job refused for an undeclared secrets variable says to commit the file new app wrote", () => {
    const record: AppState = { project: "shop", app: "web", target: "ecs", builder: "docker", port: 8080, withDb: true, dir: "/src/web", secretsVariable: "pilot_secrets_web", createdAt: "t" };
    // As Waypoint 0.11.4 prints it (test/e2e/apps/ecs-secrets-variable.test.ts), wrapped at 80 columns.
    const lines = [
      "! waypoint.hcl:0,0-0: Undefined variable; A \"pilot_secrets_web\" variable value was",
      "  set, but was not found in known variables. To declare variable",
      "  \"pilot_secrets_web\", place a variable definition block in your waypoint.hcl file.",
    ];
    expect(undeclaredVariableHint(lines, record)).toMatch(/does not declare the variable "pilot_secrets_web" that `pilot new app` wrote into \/src\/web\/waypoint\.hcl: commit and push that file/);
    const wrapped = ["! waypoint.hcl:0,0-0: Undefined", "  variable; A \"pilot_secrets_web\" variable value was set"];
    expect(undeclaredVariableHint(wrapped, record)).toBeDefined();
    expect(undeclaredVariableHint(["! waypoint.hcl:0,0-0: Undefined variable; A \"other\" variable value was set"], record)).toBeUndefined();
    expect(undeclaredVariableHint(["build failed"], record)).toBeUndefined();
    expect(undeclaredVariableHint(lines, { ...record, secretsVariable: undefined })).toBeUndefined();
  });
});
