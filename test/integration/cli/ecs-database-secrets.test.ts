/**
 * Issue 10: an ECS app with `--with-db` gets DATABASE_URL (and libpq's PG*
 * variables) from SSM Parameter Store, since an ECS task reaches neither the
 * Waypoint server nor its CA. Against moto, with the real CLI (dist/cli.js):
 * `pilot new app --target ecs --with-db` makes the app's execution role with
 * exactly ECS's trust, AWS's execution policy and one inline policy reading the
 * app's parameter folder, and writes the app's secrets variable naming those
 * parameters (no value); the parameter writer `pilot up` calls (run directly:
 * `pilot up` needs a live server); `pilot teardown` removing the parameters
 * and the role. (`pilot env` on ECS apps: ecs-env.test.ts.)
 * No value ever reaches stdout, stderr or --json.
 */
import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from "@aws-sdk/client-iam";
import { DescribeRepositoriesCommand } from "@aws-sdk/client-ecr";
import { DescribeParametersCommand, GetParameterCommand, ListTagsForResourceCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deleteAppRepository, createEcrClient } from "../../../src/apps/ecr.js";
import { deleteAppParameters, putAppParameters } from "../../../src/providers/aws/app-parameters.js";
import { databaseVariables, postgresUrl } from "../../../src/providers/database-url.js";
import { StateStore } from "../../../src/state/store.js";
import { LINEAGE, stackState, writeStack } from "../../support/app-stacks.js";
import { useCliHarness } from "./helpers.js";

const h = useCliHarness("pilot-ecs-db-");
const PASSWORD = "pw/with:odd@chars"; // stackState's
const DB = { host: "db.example.internal", port: 5432, user: "pilot", database: "pilot" };
const URL_ = postgresUrl(DB, PASSWORD);
const ECS_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

let iam: IAMClient;
let ssm: (region?: string) => SSMClient;
beforeAll(() => {
  iam = new IAMClient({ region: "us-east-1" });
  ssm = (region = "eu-west-1") => new SSMClient({ region });
});
afterAll(() => iam?.destroy());

let dir: string;
beforeEach(() => {
  dir = join(h.home, "src", "web");
  mkdirSync(dir, { recursive: true });
});
const hcl = () => join(dir, "waypoint.hcl");
const newApp = (stack: string, more: string[], at = dir) => h.cli.run(["new", "app", "--name", stack, "--dir", at, "--target", "ecs", ...more]);
const flags = (app = "web", project = "shop") => ["--project", project, "--app", app, "--port", "8080", "--with-db"];

/** No database value, in any form, in what a run printed. */
function expectNoValue(r: { stdout: string; stderr: string }): void {
  for (const v of [PASSWORD, encodeURIComponent(PASSWORD), URL_]) {
    expect(r.stdout).not.toContain(v);
    expect(r.stderr).not.toContain(v);
  }
}

async function parameterNames(prefix: string, region = "eu-west-1"): Promise<string[]> {
  const res = await ssm(region).send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: [prefix.replace(/\/$/, "")] }] }));
  return (res.Parameters ?? []).map((p) => p.Name!).sort();
}

async function roleShape(name: string) {
  const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
  const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
  const inline = (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
  const documents = Object.fromEntries(
    await Promise.all(inline.map(async (p) => [p, JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: p }))).PolicyDocument!))])),
  );
  return { trust: JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)), attached: attached.map((a) => a.PolicyArn).sort(), inline: inline.sort(), documents, tags: role.Tags ?? [] };
}

describe("pilot new app --target ecs --with-db (aws, moto)", () => {
  it("makes the app's execution role: ECS's trust, AWS's execution policy, and reading its own SSM folder only; the file names the parameters and holds no value", async () => {
    writeStack(h.home, "prod", stackState("aws"));
    const r = await newApp("prod", [...flags(), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expectNoValue(r);
    expect(r.json.executionRole).toEqual({ name: "pilot-prod.web", created: true });

    const shape = await roleShape("pilot-prod.web");
    expect(shape.trust).toEqual({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    expect(shape.attached).toEqual([ECS_EXECUTION_POLICY]);
    expect(shape.inline).toEqual(["pilot-parameters-shop"]);
    expect(shape.documents["pilot-parameters-shop"]).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "ReadAppParameters", Effect: "Allow", Action: ["ssm:GetParameters"], Resource: "arn:aws:ssm:eu-west-1:*:parameter/pilot/prod/shop/web/*" }],
    });
    expect(shape.tags).toEqual(expect.arrayContaining([{ Key: "pilot:stack", Value: "prod" }, { Key: "pilot:stack-id", Value: LINEAGE }, { Key: "pilot:key", Value: "app-role/web" }]));

    const text = readFileSync(hcl(), "utf8");
    expect(text).toContain('      execution_role_name = "pilot-prod.web"\n');
    // The secrets variable's default names them; the deploy gives the variable to the plugin.
    expect(text).toContain('variable "pilot_secrets_web" {\n');
    expect(text).toContain('    DATABASE_URL = "/pilot/prod/shop/web/DATABASE_URL"\n');
    expect(text).toContain('    PGPASSWORD   = "/pilot/prod/shop/web/PGPASSWORD"\n');
    expect(text).toContain("      secrets = var.pilot_secrets_web\n");
    expect(new StateStore(h.home, "prod").load()!.apps!["shop/web"]!.secretsVariable).toBe("pilot_secrets_web");
    for (const v of [PASSWORD, encodeURIComponent(PASSWORD), "db.example.internal", "postgres://"]) expect(text).not.toContain(v);

    // Again (--force): the role carries this stack's lineage, so it is adopted and set again, not duplicated.
    const again = await newApp("prod", [...flags(), "--force", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.executionRole).toEqual({ name: "pilot-prod.web", created: false });
    expect((await roleShape("pilot-prod.web")).inline).toEqual(["pilot-parameters-shop"]);

    // An app of the same name in another project shares the role (the plugin names roles by app): its own policy is added beside.
    const other = join(h.home, "src", "web2");
    mkdirSync(other, { recursive: true });
    expect((await newApp("prod", flags("web", "blog"), other)).code).toBe(0);
    const shared = await roleShape("pilot-prod.web");
    expect(shared.inline).toEqual(["pilot-parameters-blog", "pilot-parameters-shop"]);
    expect(shared.documents["pilot-parameters-blog"].Statement[0].Resource).toBe("arn:aws:ssm:eu-west-1:*:parameter/pilot/prod/blog/web/*");
    expect(shared.documents["pilot-parameters-shop"].Statement[0].Resource).toBe("arn:aws:ssm:eu-west-1:*:parameter/pilot/prod/shop/web/*");

    // Without --with-db too: `pilot env set` may give any ECS app parameters later, which a role the plugin made could not read.
    const plain = await newApp("prod", ["--project", "shop", "--app", "api", "--port", "8080", "--force", "--json"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.json.executionRole).toEqual({ name: "pilot-prod.api", created: true });
    const api = await roleShape("pilot-prod.api");
    expect(api.attached).toEqual([ECS_EXECUTION_POLICY]);
    expect(api.documents["pilot-parameters-shop"].Statement[0].Resource).toBe("arn:aws:ssm:eu-west-1:*:parameter/pilot/prod/shop/api/*");
    const plainText = readFileSync(hcl(), "utf8");
    expect(plainText).toContain('variable "pilot_secrets_api" {\n  type    = map(string)\n  default = {}\n}\n');
    expect(plainText).toContain("      secrets = var.pilot_secrets_api\n");
    expect(plainText).not.toMatch(/DATABASE_URL|PG[A-Z]+ /);

    const ecr = createEcrClient("eu-west-1");
    for (const name of ["pilot-prod/shop/web", "pilot-prod/blog/web", "pilot-prod/shop/api"]) await deleteAppRepository(ecr, { region: "eu-west-1", name });
  });

  it("refuses a role of that name not tagged as this stack's (the plugin's, from an earlier deploy), says how to claim it, and writes nothing", async () => {
    writeStack(h.home, "old", stackState("aws"));
    const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    await iam.send(new CreateRoleCommand({ RoleName: "pilot-old.web", AssumeRolePolicyDocument: trust }));
    const r = await newApp("old", flags());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("an IAM role named pilot-old.web already exists and does not belong to this stack");
    expect(r.stderr).toContain(`aws iam tag-role --role-name pilot-old.web --tags Key=pilot:stack,Value=old Key=pilot:stack-id,Value=${LINEAGE}`);
    expect(existsSync(hcl())).toBe(false);
    expect(new StateStore(h.home, "old").load()!.apps ?? {}).toEqual({});
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: "pilot-old.web" }))).PolicyNames).toEqual([]);
    // Checked before the repository is made: nothing was created.
    await expect(createEcrClient("eu-west-1").send(new DescribeRepositoriesCommand({ repositoryNames: ["pilot-old/shop/web"] }))).rejects.toMatchObject({ name: "RepositoryNotFoundException" });
  });
});

describe("the app's SSM parameters (what `pilot up` writes for an ECS app with --with-db)", () => {
  const target = { region: "eu-west-1", stack: "prm", stackId: LINEAGE, project: "shop", app: "web" };

  it("writes every variable as a tagged SecureString under /pilot/<stack>/<project>/<app>/, and overwrites them on the next run", async () => {
    const client = ssm();
    const values = databaseVariables(DB, PASSWORD);
    const written = await putAppParameters(client, { ...target, values });
    const names = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"].map((v) => `/pilot/prm/shop/web/${v}`);
    expect(written).toEqual(names);
    for (const [variable, value] of Object.entries(values)) {
      const p = (await client.send(new GetParameterCommand({ Name: `/pilot/prm/shop/web/${variable}`, WithDecryption: true }))).Parameter!;
      expect(p.Type).toBe("SecureString");
      expect(p.Value).toBe(value);
    }
    expect((await client.send(new GetParameterCommand({ Name: names[0] }))).Parameter!.Value).not.toBe(URL_); // encrypted at rest
    const tags = async (name: string) => (await client.send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: name }))).TagList;
    expect(await tags(names[0]!)).toEqual(expect.arrayContaining([{ Key: "pilot:stack", Value: "prm" }, { Key: "pilot:stack-id", Value: LINEAGE }, { Key: "pilot:key", Value: "app/shop/web" }]));

    // A rotated password: the same names, new values (PutParameter refuses tags with Overwrite; they are set apart).
    const rotated = databaseVariables(DB, "new-pass-word");
    await putAppParameters(client, { ...target, values: rotated });
    const url = (await client.send(new GetParameterCommand({ Name: names[0], WithDecryption: true }))).Parameter!;
    expect(url.Value).toBe(rotated.DATABASE_URL);
    expect(url.Version).toBe(2);
    expect(await tags(names[0]!)).toEqual(expect.arrayContaining([{ Key: "pilot:stack-id", Value: LINEAGE }]));

    // One made untagged (by hand, or a run that crashed in between) is tagged when it is overwritten.
    await client.send(new PutParameterCommand({ Name: "/pilot/prm/shop/old/DATABASE_URL", Value: "x", Type: "SecureString" }));
    expect(await tags("/pilot/prm/shop/old/DATABASE_URL")).toEqual([]);
    await putAppParameters(client, { ...target, app: "old", values: { DATABASE_URL: rotated.DATABASE_URL! } });
    expect(await tags("/pilot/prm/shop/old/DATABASE_URL")).toEqual(expect.arrayContaining([{ Key: "pilot:stack-id", Value: LINEAGE }, { Key: "pilot:key", Value: "app/shop/old" }]));
  });

  it("`pilot destroy`'s delete takes the app's parameters only (not web2's, not another stack's), and twice is fine", async () => {
    const client = ssm();
    const mine = { ...target, stack: "prd" };
    const values = { DATABASE_URL: "postgres://u:p@h:5432/d", PGPASSWORD: "p" };
    for (const t of [mine, { ...mine, app: "web2" }, { ...mine, stack: "prd2" }]) await putAppParameters(client, { ...t, values });
    expect(await deleteAppParameters(client, mine)).toEqual(["/pilot/prd/shop/web/DATABASE_URL", "/pilot/prd/shop/web/PGPASSWORD"]);
    expect(await parameterNames("/pilot/prd/")).toEqual(["/pilot/prd/shop/web2/DATABASE_URL", "/pilot/prd/shop/web2/PGPASSWORD"]);
    expect(await parameterNames("/pilot/prd2/")).toEqual(["/pilot/prd2/shop/web/DATABASE_URL", "/pilot/prd2/shop/web/PGPASSWORD"]);
    expect(await deleteAppParameters(client, mine)).toEqual([]);
  });
});

describe("pilot teardown (aws, moto) with an ECS app --with-db", () => {
  it("removes the stack's parameters and the app's role, leaves another stack's parameters, and prints no value", async () => {
    const up = await h.cli.up("tdp");
    expect(up.code).toBe(0);
    const made = await h.cli.run(["new", "app", "--name", "tdp", "--dir", dir, ...flags(), "--json"]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json.executionRole).toEqual({ name: "pilot-tdp.web", created: true });
    // What `pilot up tdp shop/web` writes (UP_FLAGS put the stack in us-east-1), and another stack's.
    const state = h.cli.state("tdp");
    const values = databaseVariables(DB, state.secrets.dbPassword!);
    await putAppParameters(ssm("us-east-1"), { region: "us-east-1", stack: "tdp", stackId: state.lineage, project: "shop", app: "web", values });
    await putAppParameters(ssm("us-east-1"), { region: "us-east-1", stack: "tdp2", stackId: "other", project: "shop", app: "web", values: { DATABASE_URL: "x://y" } });
    expect(await parameterNames("/pilot/tdp/", "us-east-1")).toHaveLength(6);

    const td = await h.cli.run(["teardown", "--name", "tdp", "--yes", "--skip-final-snapshot", "--json"]);
    expect(td.code, td.stderr).toBe(0);
    for (const v of Object.values(values).filter((v) => v.includes(state.secrets.dbPassword!))) {
      expect(td.stdout).not.toContain(v);
      expect(td.stderr).not.toContain(v);
    }
    expect(td.json.appResources).toEqual(
      expect.arrayContaining([
        { type: "aws.ssm.parameters", id: "/pilot/tdp/" },
        { type: "aws.iam.role", id: "pilot-tdp.web" },
      ]),
    );
    expect(await parameterNames("/pilot/tdp/", "us-east-1")).toEqual([]);
    expect(await parameterNames("/pilot/tdp2/", "us-east-1")).toEqual(["/pilot/tdp2/shop/web/DATABASE_URL"]);
    await expect(iam.send(new GetRoleCommand({ RoleName: "pilot-tdp.web" }))).rejects.toMatchObject({ name: "NoSuchEntityException" });
  });
});
