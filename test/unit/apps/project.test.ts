import { describe, expect, it } from "vitest";
import {
  checkGitPath, checkGitRef, checkGitUrl, projectApplyArgs, projectDigest, projectRecord, projectSourceHcl, serverMatches, type ProjectSpec,
} from "../../../src/apps/project.js";
import { UsageError } from "../../../src/errors.js";

const spec: ProjectSpec = { name: "shop", gitUrl: "https://git.example.test/team/shop.git", gitRef: "main" };

describe("pilot new project: the project's specification", () => {
  it("accepts the URL forms go-git clones, refuses the rest with a usage error", () => {
    for (const ok of ["https://h/o/r.git", "http://h/r", "ssh://git@h/o/r.git", "git://h/r.git", "file:///srv/r.git", "git@h:o/r.git"]) {
      expect(checkGitUrl(ok)).toBe(ok);
    }
    for (const bad of ["", "h/o/r", "ftp://h/r", "https://h/has space", "-oProxyCommand=x"]) expect(() => checkGitUrl(bad)).toThrow(UsageError);
  });

  it("checks refs and paths the way git and the runner need them", () => {
    expect(checkGitRef("v1.2.0")).toBe("v1.2.0");
    expect(checkGitRef("feature/x")).toBe("feature/x");
    for (const bad of ["", "a..b", "a b", "x~1", "/x", "x/", "x.lock", "a:b"]) expect(() => checkGitRef(bad), bad).toThrow(UsageError);
    expect(checkGitPath("apps/web")).toBe("apps/web");
    for (const bad of ["/abs", "../up", "a/../../b"]) expect(() => checkGitPath(bad), bad).toThrow(UsageError);
  });

  it("puts credentials only in the source document (a file), escaped, never in the arguments", () => {
    const withPassword: ProjectSpec = { ...spec, gitPath: "apps", auth: { kind: "basic", username: "ci", password: 'p"w${x}\\' } };
    const { args, files } = projectApplyArgs(withPassword);
    expect(args).toEqual(["project", "apply", "-data-source=git", "-from-waypoint-hcl=source.hcl", "shop"]);
    expect(args.join(" ")).not.toContain("p\"w");
    expect(files["source.hcl"]).toBe(
      [
        "# Written by Pilot into a private temporary folder on the server, read once by `waypoint project apply`.",
        'project = "shop"',
        "runner {",
        "  enabled = true",
        '  data_source "git" {',
        '    url      = "https://git.example.test/team/shop.git"',
        '    ref      = "main"',
        '    path     = "apps"',
        '    username = "ci"',
        // JSON's escapes, and `$${` so HCL reads a literal "${" rather than a template.
        '    password = "p\\"w$${x}\\\\"',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const ssh = projectApplyArgs({ ...spec, auth: { kind: "ssh", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAA\n-----END OPENSSH PRIVATE KEY-----\n" } });
    expect(ssh.files["source.hcl"]).toContain('key = "-----BEGIN OPENSSH PRIVATE KEY-----\\nAAA\\n-----END OPENSSH PRIVATE KEY-----\\n"');
  });

  it("keeps a server-side waypoint.hcl as its own file", () => {
    const { args, files } = projectApplyArgs({ ...spec, waypointHcl: 'project = "shop"\n' });
    expect(args).toContain("-waypoint-hcl=app.hcl");
    expect(args[args.length - 1]).toBe("shop");
    expect(files["app.hcl"]).toBe('project = "shop"\n');
  });

  it("digests everything given, credentials included, and records no credential", () => {
    const a = projectDigest({ ...spec, auth: { kind: "basic", username: "u", password: "one" } });
    expect(projectDigest({ ...spec, auth: { kind: "basic", username: "u", password: "one" } })).toBe(a);
    expect(projectDigest({ ...spec, auth: { kind: "basic", username: "u", password: "two" } })).not.toBe(a);
    expect(projectDigest({ ...spec, gitRef: "dev" })).not.toBe(projectDigest(spec));
    const record = projectRecord({ ...spec, auth: { kind: "basic", username: "u", password: "one" } }, new Date("2026-01-01T00:00:00Z"));
    expect(record).toEqual({ gitUrl: spec.gitUrl, gitRef: "main", gitAuth: "basic", serverHcl: false, specDigest: a, updatedAt: "2026-01-01T00:00:00.000Z" });
    expect(JSON.stringify(record)).not.toContain("one");
  });

  it("reads the server's project: repository, ref, path and remote operations must all match", () => {
    const onServer = { name: "shop", remoteEnabled: true, dataSource: { git: { url: spec.gitUrl, ref: "main" } } };
    expect(serverMatches(onServer, spec)).toBe(true);
    expect(serverMatches({ ...onServer, remoteEnabled: false }, spec)).toBe(false);
    expect(serverMatches({ ...onServer, dataSource: { git: { url: spec.gitUrl, ref: "dev" } } }, spec)).toBe(false);
    expect(serverMatches(onServer, { ...spec, gitPath: "apps" })).toBe(false);
    expect(serverMatches(undefined, spec)).toBe(false);
  });
});
