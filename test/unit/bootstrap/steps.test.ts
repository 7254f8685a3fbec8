import { describe, expect, it } from "vitest";
import {
  DEFAULT_NAMES, EXPECT_JSON_SCRIPT, INSTALL_DOCKER_SCRIPT, PACKAGE_MANAGER_FREE_SCRIPT, WITH_TOKEN_SCRIPT, PROFILE_SET_SCRIPT, waitForRunner, expectedProfileJson,
  createNetwork, createVolumes, installDocker, parseBootstrapToken, runnerConfigHash, serverConfigHash, setRunnerProfile,
  sha256, startRunner, startServer, takeBootstrapToken, uploadTls, waitForPackageManager, waitForServer, type StepContext,
  GCE_CREDENTIAL_HELPER_SCRIPT, uploadRegistryAuth,
} from "../../../src/bootstrap/steps/index.js";
import { defaultOdrImage } from "../../../src/bootstrap/index.js";
import { shellJoin } from "../../../src/bootstrap/shell-quote.js";
import { isUpload, type Action, type Step } from "../../../src/bootstrap/types.js";

const ctx: StepContext = {
  sudo: true,
  names: DEFAULT_NAMES,
  remoteDir: "/etc/pilot",
  ports: { grpc: 9701, http: 9702 },
  waypointImage: "hashicorp/waypoint:0.11.4",
  runnerImage: "hashicorp/waypoint:0.11.4",
  odrImage: "hashicorp/waypoint-odr:0.11.4",
  tls: { caPem: "CA\n", certPem: "CERT\n", keyPem: "KEY\n" },
};
const local: StepContext = { ...ctx, sudo: false, remoteDir: "/home/me/.pilot/stacks/default/server", ports: { grpc: 9701, http: 9702, bindHost: "127.0.0.1" } };

const lines = (actions: Action[]) => actions.map((a) => (isUpload(a) ? `upload ${a.upload} ${a.mode.toString(8)}` : shellJoin(a.argv)));
const checks = (s: Step) => lines(s.check);

const ENV = "-e WAYPOINT_SERVER_ADDR=localhost:9701 -e WAYPOINT_SERVER_TLS=true -e WAYPOINT_SERVER_TLS_SKIP_VERIFY=false -e SSL_CERT_FILE=/pilot/tls/ca.pem";
const WITH_TOKEN = `sh -c 'IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint "$@"' waypoint`;
const EXPECT = `sh -c ${shellJoin([EXPECT_JSON_SCRIPT])} waypoint`;

describe("bootstrap steps (exact argv, Kamal style)", () => {
  it("package-manager: polls a fuser check of apt/dpkg locks, bounded", () => {
    const s = waitForPackageManager(ctx);
    expect(checks(s)).toEqual([`sudo -n sh -c ${shellJoin([PACKAGE_MANAGER_FREE_SCRIPT])}`]);
    expect(PACKAGE_MANAGER_FREE_SCRIPT).toContain("fuser \"$f\"");
    expect(PACKAGE_MANAGER_FREE_SCRIPT).toContain("/var/lib/dpkg/lock-frontend");
    expect(s.apply).toEqual([]);
    expect(s.wait).toEqual({ timeoutMs: 900_000, intervalMs: 5000 });
  });

  it("docker: checks the daemon answers; installs docker.io and starts the service", () => {
    const s = installDocker(ctx);
    expect(checks(s)).toEqual(["sudo -n docker info --format '{{.ServerVersion}}'"]);
    expect(lines(s.apply)).toEqual([
      `sudo -n sh -c ${shellJoin([INSTALL_DOCKER_SCRIPT])}`,
      "sudo -n systemctl enable --now docker.service",
    ]);
    expect(INSTALL_DOCKER_SCRIPT).toBe(
      [
        "command -v dockerd >/dev/null 2>&1 && exit 0",
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get -o DPkg::Lock::Timeout=600 -q update",
        "apt-get -o DPkg::Lock::Timeout=600 -q install -y docker.io",
      ].join("\n"),
    );
  });

  it("network and volumes", () => {
    expect(checks(createNetwork(ctx))).toEqual(["sudo -n docker network inspect --format '{{.Name}}' pilot"]);
    expect(lines(createNetwork(ctx).apply)).toEqual(["sudo -n docker network create --driver bridge --label pilot.managed=true pilot"]);
    expect(checks(createVolumes(ctx))).toEqual(["sudo -n docker volume inspect --format '{{.Name}}' waypoint-server waypoint-runner"]);
    expect(lines(createVolumes(ctx).apply)).toEqual([
      "sudo -n docker volume create --label pilot.managed=true waypoint-server",
      "sudo -n docker volume create --label pilot.managed=true waypoint-runner",
    ]);
    expect(checks(createNetwork(local))).toEqual(["docker network inspect --format '{{.Name}}' pilot"]);
  });

  it("tls: compares content hashes, uploads into a root-only folder", () => {
    const s = uploadTls(ctx);
    expect(checks(s)).toEqual([
      "sudo -n cat /etc/pilot/tls/ca.pem",
      "sudo -n cat /etc/pilot/tls/server.pem",
      "sudo -n cat /etc/pilot/tls/server-key.pem",
      "sudo -n cat /etc/pilot/ca/ca.pem",
    ]);
    expect(s.check.map((c) => c.expect)).toEqual([
      { sha256: sha256("CA\n") },
      { sha256: sha256("CERT\n") },
      { sha256: sha256("KEY\n") },
      { sha256: sha256("CA\n") },
    ]);
    expect(lines(s.apply)).toEqual([
      "sudo -n install -d -m 0700 /etc/pilot",
      "sudo -n install -d -m 0755 /etc/pilot/tls",
      "sudo -n install -d -m 0755 /etc/pilot/ca",
      "upload /etc/pilot/tls/ca.pem 644",
      "upload /etc/pilot/tls/server.pem 644",
      "upload /etc/pilot/tls/server-key.pem 644",
      // The folder containers that only verify the server get: the CA alone, never the key.
      "upload /etc/pilot/ca/ca.pem 644",
    ]);
  });

  it("server: restart policy, our certificate, URL service off, config hash label", () => {
    const s = startServer(ctx);
    const hash = serverConfigHash(ctx);
    expect(checks(s)).toEqual([
      `sudo -n docker inspect --format '{{.State.Running}} {{index .Config.Labels "pilot.config"}}' waypoint-server`,
    ]);
    expect(s.check[0]!.expect).toEqual({ stdout: `true ${hash}` });
    expect(lines(s.apply)).toEqual([
      "sudo -n docker rm -f -v waypoint-server",
      "sudo -n docker run -d --name waypoint-server --restart unless-stopped --network pilot -p 9701:9701 -p 9702:9702 " +
        "-v waypoint-server:/data -v /etc/pilot/tls:/pilot/tls:ro --label pilot.role=server " +
        `--label pilot.config=${hash} hashicorp/waypoint:0.11.4 server run -db=/data/data.db ` +
        "-listen-grpc=0.0.0.0:9701 -listen-http=0.0.0.0:9702 -url-enabled=false " +
        "-tls-cert-file=/pilot/tls/server.pem -tls-key-file=/pilot/tls/server-key.pem " +
        "-advertise-addr=waypoint-server:9701 -advertise-tls=true -advertise-tls-skip-verify=false",
    ]);
    expect(lines(startServer(local).apply)[1]).toContain("-p 127.0.0.1:9701:9701 -p 127.0.0.1:9702:9702");
  });

  it("server: a new certificate or image changes the config hash (so the container is re-created)", () => {
    const h = serverConfigHash(ctx);
    expect(serverConfigHash({ ...ctx, tls: { ...ctx.tls, certPem: "NEW\n" } })).not.toBe(h);
    expect(serverConfigHash({ ...ctx, waypointImage: "hashicorp/waypoint:0.11.5" })).not.toBe(h);
    expect(serverConfigHash({ ...ctx })).toBe(h);
  });

  it("server-ready: polls curl with the stack's CA (no -k)", () => {
    const s = waitForServer(ctx);
    expect(checks(s)).toEqual([
      "sudo -n curl -sS -o /dev/null --max-time 5 --cacert /etc/pilot/tls/ca.pem https://127.0.0.1:9702/",
    ]);
    expect(s.wait).toEqual({ timeoutMs: 180_000, intervalMs: 1000 });
    expect(checks(s).join(" ")).not.toMatch(/ -k|--insecure/);
  });

  it("bootstrap-token: no check without a token; the token goes on stdin, never in argv", () => {
    const none = takeBootstrapToken(ctx, undefined);
    expect(none.check).toEqual([]);
    // The server keeps a copy of its first token before printing it (crash safety), in its own volume.
    expect(lines(none.apply)).toEqual([
      `sudo -n docker exec ${ENV} waypoint-server sh -c 'f=/data/pilot-bootstrap-token; if [ -s "$f" ]; then cat "$f"; exit 0; fi; ` +
        `umask 077; waypoint "$@" > "$f.tmp" && mv "$f.tmp" "$f" && cat "$f"' waypoint server bootstrap -context-create=`,
    ]);
    expect(none.recheck).toBe(false);
    const known = takeBootstrapToken(ctx, "tok-123");
    expect(checks(known)).toEqual([`sudo -n docker exec -i ${ENV} waypoint-server ${WITH_TOKEN} user inspect`]);
    expect(known.check[0]!.stdin).toBe("tok-123\n");
    expect(checks(known).join(" ")).not.toContain("tok-123");
    expect(WITH_TOKEN_SCRIPT).toBe('IFS= read -r WAYPOINT_SERVER_TOKEN; export WAYPOINT_SERVER_TOKEN; exec waypoint "$@"');
  });

  it("parses the token from `waypoint server bootstrap` output", () => {
    expect(parseBootstrapToken("abc123\n")).toBe("abc123");
    expect(parseBootstrapToken("Some banner\n\n  tok-xyz  \n")).toBe("tok-xyz");
    expect(parseBootstrapToken("")).toBeUndefined();
    expect(parseBootstrapToken("Error bootstrapping the server: no\n")).toBeUndefined();
  });

  it("runner: socket mounted, not privileged, root only for the socket, login token via stdin env-file, /data named", () => {
    const s = startRunner(ctx, "login-1");
    const hash = runnerConfigHash(ctx);
    expect(checks(s)).toEqual([
      `sudo -n docker inspect --format '{{.State.Running}} {{index .Config.Labels "pilot.config"}}' waypoint-runner`,
    ]);
    expect(s.check[0]!.expect).toEqual({ stdout: `true ${hash}` });
    const apply = lines(s.apply);
    expect(apply).toEqual([
      "sudo -n docker rm -f -v waypoint-runner",
      // A token saved by an earlier (cookie-adopted) runner would take precedence over the login token.
      "sudo -n docker volume rm -f waypoint-runner",
      "sudo -n docker volume create --label pilot.managed=true waypoint-runner",
      "sudo -n docker run -d --name waypoint-runner --restart unless-stopped --network pilot --user root " +
        "-v /var/run/docker.sock:/var/run/docker.sock -v waypoint-runner:/data -v /etc/pilot/tls:/pilot/tls:ro " +
        "-e WAYPOINT_SERVER_ADDR=waypoint-server:9701 -e WAYPOINT_SERVER_TLS=true -e WAYPOINT_SERVER_TLS_SKIP_VERIFY=false " +
        "-e SSL_CERT_FILE=/pilot/tls/ca.pem --label pilot.role=runner --env-file /dev/stdin " +
        `--label pilot.config=${hash} hashicorp/waypoint:0.11.4 runner agent -id=pilot-runner -state-dir=/data/runner -vv`,
    ]);
    expect((s.apply[3] as { stdin?: string }).stdin).toBe("WAYPOINT_SERVER_TOKEN=login-1\n");
    expect(apply.join(" ")).not.toMatch(/--privileged|tcp:\/\/|2375|2376|login-1|COOKIE|AWS_|GOOGLE_/);
    // The token is not part of the desired config: the check is the same whatever it is.
    expect(startRunner(ctx, "other").check).toEqual(s.check);
  });

  it("runner on GCP: the Docker config naming Pilot's credential helper for the stack's Artifact Registry host, and the helper on its PATH, read-only", () => {
    const gcp: StepContext = { ...ctx, registryAuth: { helper: "gce-metadata", hosts: ["europe-west1-docker.pkg.dev"] } };
    const config = '{\n  "credHelpers": {\n    "europe-west1-docker.pkg.dev": "pilot-gce"\n  }\n}\n';
    const files = uploadRegistryAuth(gcp);
    expect(checks(files)).toEqual([
      "sudo -n cat /etc/pilot/docker/config.json",
      `sudo -n sh -c 'test -x "$1" && cat "$1"' sh /etc/pilot/docker/docker-credential-pilot-gce`,
    ]);
    expect(files.check.map((c) => c.expect)).toEqual([{ sha256: sha256(config) }, { sha256: sha256(GCE_CREDENTIAL_HELPER_SCRIPT) }]);
    expect(lines(files.apply)).toEqual([
      "sudo -n install -d -m 0700 /etc/pilot",
      "sudo -n install -d -m 0755 /etc/pilot/docker",
      "upload /etc/pilot/docker/config.json 644",
      "upload /etc/pilot/docker/docker-credential-pilot-gce 755",
    ]);
    const uploaded = files.apply.filter(isUpload);
    expect(JSON.parse(String(uploaded[0]!.content))).toEqual({ credHelpers: { "europe-west1-docker.pkg.dev": "pilot-gce" } });
    expect(uploaded[1]!.content).toBe(GCE_CREDENTIAL_HELPER_SCRIPT);

    const run = lines(startRunner(gcp, "login-1").apply)[3]!;
    expect(run).toContain(
      "-v /etc/pilot/docker:/pilot/docker:ro -v /etc/pilot/docker/docker-credential-pilot-gce:/usr/local/bin/docker-credential-pilot-gce:ro " +
        "-e DOCKER_CONFIG=/pilot/docker --label pilot.role=runner",
    );
    // An existing runner without them is re-created: the config (and the helper's content) are in its config hash.
    expect(runnerConfigHash(gcp)).not.toBe(runnerConfigHash(ctx));
    expect(runnerConfigHash({ ...gcp, registryAuth: { helper: "gce-metadata", hosts: ["us-central1-docker.pkg.dev"] } })).not.toBe(runnerConfigHash(gcp));
    expect(startRunner(gcp, "x").check[0]!.expect).toEqual({ stdout: `true ${runnerConfigHash(gcp)}` });
    // Other stacks' runners get none of it, and keep their hash.
    expect(lines(startRunner(ctx, "login-1").apply).join(" ")).not.toMatch(/DOCKER_CONFIG|credential/);
    expect(runnerConfigHash({ ...ctx, registryAuth: { helper: "gce-metadata", hosts: [] } })).toBe(runnerConfigHash(ctx));
  });

  it("registry credential helper: Docker's helper protocol, the GCE metadata token endpoint with its header, GCE_METADATA_HOST honoured", () => {
    const s = GCE_CREDENTIAL_HELPER_SCRIPT;
    expect(s.startsWith("#!/bin/sh\n")).toBe(true);
    expect(s).toContain('url="http://${GCE_METADATA_HOST:-169.254.169.254}/computeMetadata/v1/instance/service-accounts/default/token"');
    expect(s).toContain("--header 'Metadata-Flavor: Google'");
    expect(s).toContain(`printf '{"Username":"oauth2accesstoken","Secret":"%s"}\\n' "$token"`);
  });

  it("runner-registered: waits (no apply) until the runner shows as pre-adopted or adopted", () => {
    const s = waitForRunner(ctx, "tok");
    const expectLines = "'PILOT_EXPECT=\"adoptionState\":\"PREADOPTED\"\n\"adoptionState\":\"ADOPTED\"'";
    expect(checks(s)).toEqual([
      `sudo -n docker exec -i ${ENV} -e ${expectLines} waypoint-server ${EXPECT} runner inspect -json pilot-runner`,
    ]);
    expect(s.apply).toEqual([]);
    expect(s.wait).toEqual({ timeoutMs: 120_000, intervalMs: 2000 });
  });

  it("runner-profile: not the default; CA folder bound read-only, stack network, every field compared", () => {
    const s = setRunnerProfile(ctx, "tok");
    const plugin = '{"networks":["pilot"],"binds":["/etc/pilot/ca:/pilot/ca:ro"],"static_environment":{"SSL_CERT_FILE":"/pilot/ca/ca.pem"}}';
    const expected =
      '"name":"pilot-docker","targetRunner":{"id":{"id":"pilot-runner"}},"ociUrl":"hashicorp/waypoint-odr:0.11.4",' +
      '"environmentVariables":{"SSL_CERT_FILE":"/pilot/ca/ca.pem"},"pluginType":"docker",' +
      `"pluginConfig":"${Buffer.from(plugin).toString("base64")}","configFormat":"JSON"}`;
    expect(expectedProfileJson(ctx)).toBe(expected);
    expect(checks(s)).toEqual([
      `sudo -n docker exec -i ${ENV} -e ${shellJoin([`PILOT_EXPECT=${expected}`])} waypoint-server ${EXPECT} runner profile inspect -json pilot-docker`,
    ]);
    expect(lines(s.apply)).toEqual([
      `sudo -n docker exec -i ${ENV} -e PILOT_PROFILE=pilot-docker waypoint-server sh -c ${shellJoin([PROFILE_SET_SCRIPT])} waypoint ` +
        "runner profile set -name=pilot-docker -plugin-type=docker -oci-url=hashicorp/waypoint-odr:0.11.4 " +
        "-env-var=SSL_CERT_FILE=/pilot/ca/ca.pem -default=false -target-runner-id=pilot-runner",
    ]);
    expect((s.apply[0] as { stdin?: string }).stdin).toBe(`tok\n${plugin}`);
  });

  it("derives the ODR image the way Waypoint's installer does", () => {
    expect(defaultOdrImage("hashicorp/waypoint:0.11.4")).toBe("hashicorp/waypoint-odr:0.11.4");
    expect(defaultOdrImage("registry:5000/team/waypoint")).toBe("registry:5000/team/waypoint-odr");
    expect(defaultOdrImage("waypoint:1@sha256:abc")).toBe("waypoint-odr:1@sha256:abc");
  });
});
