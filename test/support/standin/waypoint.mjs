#!/usr/bin/env node
// Stand-in for HashiCorp's `waypoint` binary, baked into a locally built
// image (scripts/standin-build.sh) because no registry is reachable in
// tests. It answers the subcommands Pilot's bootstrap uses, with the same
// flags and output shapes, and records every invocation so tests can assert
// what they were asked:
//
//   server run        HTTPS on 9701 (a JSON API standing in for gRPC) and 9702
//                     (the UI), with the certificate given by -tls-cert-file
//   server bootstrap  prints a token once; afterwards "already bootstrapped"
//   server cookie     prints the server cookie (auth required)
//   user inspect      succeeds with a valid token
//   runner agent      registers with the cookie, waits for adoption, stays up
//   runner adopt ID / runner inspect [-json] ID
//   runner profile set ... / runner profile inspect [-json] NAME
//   version
//
// Clients verify the server against SSL_CERT_FILE (no skip-verify: the
// stand-in refuses WAYPOINT_SERVER_TLS_SKIP_VERIFY=true outright).
// Plain JavaScript on purpose: the image has node and nothing else.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { randomBytes } from "node:crypto";
import https from "node:https";

const argv = process.argv.slice(2);
const DATA = process.env.STANDIN_DATA ?? "/data";

function record(extra = {}) {
  const entry = {
    ts: new Date().toISOString(),
    argv,
    uid: process.getuid?.(),
    env: {
      WAYPOINT_SERVER_ADDR: process.env.WAYPOINT_SERVER_ADDR,
      WAYPOINT_SERVER_TLS: process.env.WAYPOINT_SERVER_TLS,
      WAYPOINT_SERVER_TLS_SKIP_VERIFY: process.env.WAYPOINT_SERVER_TLS_SKIP_VERIFY,
      SSL_CERT_FILE: process.env.SSL_CERT_FILE,
      hasToken: Boolean(process.env.WAYPOINT_SERVER_TOKEN),
      hasCookie: Boolean(process.env.WAYPOINT_SERVER_COOKIE),
    },
    ...extra,
  };
  for (const dir of [DATA, "/tmp"]) {
    try {
      appendFileSync(`${dir}/standin-calls.jsonl`, JSON.stringify(entry) + "\n");
      return;
    } catch {
      /* try the next place */
    }
  }
}

function die(msg, code = 1) {
  process.stderr.write(msg.endsWith("\n") ? msg : msg + "\n");
  process.exit(code);
}

/** Go-style flags: -name=value, -name value for known string flags, -bool. */
function parseFlags(args) {
  const flags = {};
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("-") && a !== "-") {
      const body = a.replace(/^--?/, "");
      const eq = body.indexOf("=");
      if (eq >= 0) flags[body.slice(0, eq)] = body.slice(eq + 1);
      else flags[body] = "true";
    } else rest.push(a);
  }
  return { flags, rest };
}

// ---------------------------------------------------------------- server ---

const STATE = `${DATA}/standin-state.json`;

function loadState() {
  if (!existsSync(STATE)) return { bootstrapped: false, tokens: [], cookie: randomBytes(16).toString("hex"), runners: {}, profiles: {} };
  return JSON.parse(readFileSync(STATE, "utf8"));
}
function saveState(s) {
  writeFileSync(STATE + ".tmp", JSON.stringify(s, null, 2));
  renameSync(STATE + ".tmp", STATE);
}

function serverRun(args) {
  const { flags } = parseFlags(args);
  for (const required of ["tls-cert-file", "tls-key-file", "db"]) {
    if (!flags[required]) die(`stand-in: server run needs -${required}`);
  }
  if (flags["url-enabled"] !== "false") die("stand-in: Pilot must run the server with -url-enabled=false");
  if (flags["advertise-tls-skip-verify"] === "true") die("stand-in: skip-verify is not allowed");
  const grpc = flags["listen-grpc"] ?? "127.0.0.1:9701";
  const http = flags["listen-http"] ?? "127.0.0.1:9702";
  writeFileSync(`${DATA}/standin-server.json`, JSON.stringify({ argv, flags, startedAt: new Date().toISOString() }, null, 2));
  let state = loadState();
  saveState(state);

  const tlsOpts = () => ({ cert: readFileSync(flags["tls-cert-file"]), key: readFileSync(flags["tls-key-file"]) });
  const authed = (req) => {
    const h = req.headers.authorization ?? "";
    const t = h.startsWith("Bearer ") ? h.slice(7) : "";
    return t && (state.tokens.includes(t) || Object.values(state.runners).some((r) => r.token === t));
  };
  const send = (res, code, body) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const api = https.createServer(tlsOpts(), (req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const input = body ? JSON.parse(body) : {};
      const [, head, id] = (req.url ?? "/").split("/");
      state = loadState();
      if (req.method === "POST" && head === "bootstrap") {
        if (state.bootstrapped) return send(res, 409, { error: "server is already bootstrapped" });
        const token = `wp-${randomBytes(24).toString("hex")}`;
        state.bootstrapped = true;
        state.tokens.push(token);
        saveState(state);
        return send(res, 200, { token });
      }
      if (req.method === "POST" && head === "register") {
        if (input.cookie !== state.cookie) return send(res, 403, { error: "invalid cookie" });
        const r = (state.runners[input.id] ??= { id: input.id, adoptionState: "PENDING" });
        r.lastSeen = new Date().toISOString();
        saveState(state);
        if (r.adoptionState === "ADOPTED") {
          r.token ??= `runner-${randomBytes(16).toString("hex")}`;
          saveState(state);
          return send(res, 200, { adopted: true, token: r.token });
        }
        return send(res, 200, { adopted: false });
      }
      if (!authed(req)) return send(res, 401, { error: "unauthenticated" });
      if (req.method === "GET" && head === "user") return send(res, 200, { username: "waypoint" });
      if (req.method === "GET" && head === "cookie") return send(res, 200, { cookie: state.cookie });
      if (head === "runner") {
        const r = state.runners[decodeURIComponent(id ?? "")];
        if (!r) return send(res, 404, { error: `runner not found: ${id}` });
        if (req.method === "POST") {
          r.adoptionState = "ADOPTED";
          saveState(state);
        }
        return send(res, 200, { id: r.id, adoptionState: r.adoptionState, online: true, kind: { remote: {} } });
      }
      if (head === "profile") {
        if (req.method === "PUT") {
          const prev = state.profiles[input.name] ?? {};
          state.profiles[input.name] = { ...prev, ...input };
          saveState(state);
          return send(res, 200, state.profiles[input.name]);
        }
        const p = state.profiles[decodeURIComponent(id ?? "")];
        return p ? send(res, 200, p) : send(res, 404, { error: "runner profile not found" });
      }
      send(res, 404, { error: `no such call: ${req.method} ${req.url}` });
    });
  });
  const ui = https.createServer(tlsOpts(), (req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>Waypoint (stand-in)</title>\n");
  });
  const split = (a) => {
    const i = a.lastIndexOf(":");
    return [a.slice(0, i) || "0.0.0.0", Number(a.slice(i + 1))];
  };
  const [gh, gp] = split(grpc);
  const [hh, hp] = split(http);
  api.listen(gp, gh);
  ui.listen(hp, hh);
  process.stdout.write(`Server configuration:\n\n  gRPC Address: ${grpc}\n  HTTP Address: ${http}\n  URL Service: disabled\n\nServer logs:\n`);
  const stop = () => {
    api.close();
    ui.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// ---------------------------------------------------------------- client ---

function client() {
  const addr = process.env.WAYPOINT_SERVER_ADDR;
  if (!addr) die("stand-in: WAYPOINT_SERVER_ADDR is not set");
  if (process.env.WAYPOINT_SERVER_TLS_SKIP_VERIFY && process.env.WAYPOINT_SERVER_TLS_SKIP_VERIFY !== "false") {
    die("stand-in: skip-verify is not allowed");
  }
  const caFile = process.env.SSL_CERT_FILE;
  const ca = caFile ? readFileSync(caFile) : undefined;
  const i = addr.lastIndexOf(":");
  const host = addr.slice(0, i);
  const port = Number(addr.slice(i + 1));
  return (method, path, body, token = process.env.WAYPOINT_SERVER_TOKEN) =>
    new Promise((resolve, reject) => {
      const req = https.request(
        { host, port, method, path, ca, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) } },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : {} }));
        },
      );
      req.on("error", reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
}

function protojson(obj) {
  return JSON.stringify(obj, null, "\t");
}

async function cli(args) {
  const call = client();
  const expectOk = (r) => {
    if (r.status !== 200) die(`Error: ${r.body.error ?? r.status}`);
    return r.body;
  };
  const key = args.slice(0, 2).join(" ");
  const { flags, rest } = parseFlags(args.slice(2));
  try {
    switch (key) {
      case "server bootstrap": {
        const r = await call("POST", "/bootstrap", {}, "");
        if (r.status !== 200) die(`Error bootstrapping the server: ${r.body.error}`);
        process.stdout.write(`${r.body.token}\n`);
        return;
      }
      case "server cookie":
        process.stdout.write(`${expectOk(await call("GET", "/cookie")).cookie}\n`);
        return;
      case "user inspect":
        expectOk(await call("GET", "/user"));
        process.stdout.write("User:\n  Username: waypoint\n");
        return;
      case "runner adopt":
        expectOk(await call("POST", `/runner/${encodeURIComponent(rest[0] ?? "")}`));
        process.stdout.write(`Runner "${rest[0]}" adopted.\n`);
        return;
      case "runner inspect": {
        const r = expectOk(await call("GET", `/runner/${encodeURIComponent(rest[0] ?? "")}`));
        process.stdout.write(flags.json ? protojson(r) + "\n" : `Runner:\n  ID: ${r.id}\n  Adoption State: ${r.adoptionState.toLowerCase()}\n`);
        return;
      }
      case "runner profile": {
        const sub = args[2];
        const p = parseFlags(args.slice(3));
        if (sub === "set") {
          if (!p.flags.name || !p.flags["plugin-type"]) die("Flag '-plugin-type' must be set");
          const body = {
            name: p.flags.name,
            pluginType: p.flags["plugin-type"],
            ociUrl: p.flags["oci-url"] ?? "hashicorp/waypoint-odr:latest",
            default: p.flags.default === "true",
            targetRunnerId: p.flags["target-runner-id"],
          };
          expectOk(await call("PUT", "/profile", body));
          process.stdout.write("Runner profile created\n");
          return;
        }
        if (sub === "inspect") {
          const r = expectOk(await call("GET", `/profile/${encodeURIComponent(p.rest[0] ?? "")}`));
          process.stdout.write(protojson(r) + "\n");
          return;
        }
        die(`stand-in: unknown runner profile subcommand ${sub}`);
      }
      default:
        die(`stand-in: unsupported command: waypoint ${args.join(" ")}`);
    }
  } catch (err) {
    die(`Error connecting to the Waypoint server: ${err.message}`);
  }
}

async function runnerAgent(args) {
  const { flags } = parseFlags(args);
  const id = flags.id ?? `runner-${randomBytes(4).toString("hex")}`;
  const stateDir = flags["state-dir"];
  const cookie = flags.cookie ?? process.env.WAYPOINT_SERVER_COOKIE;
  if (!cookie) die("stand-in: runner agent needs -cookie or WAYPOINT_SERVER_COOKIE");
  if (stateDir) mkdirSync(stateDir, { recursive: true });
  process.stdout.write(`Runner configuration:\n  Server address: ${process.env.WAYPOINT_SERVER_ADDR}\n  Type: remote\nRunner logs:\n`);
  const call = client();
  let adopted = false;
  const tick = async () => {
    try {
      const r = await call("POST", "/register", { id, cookie }, "");
      if (r.status === 200 && r.body.adopted && !adopted) {
        adopted = true;
        if (stateDir) writeFileSync(`${stateDir}/token`, r.body.token);
        process.stdout.write(`runner ${id} adopted\n`);
      } else if (r.status !== 200) {
        process.stdout.write(`register: ${r.status} ${r.body.error}\n`);
      }
    } catch (err) {
      process.stdout.write(`server unavailable: ${err.message}\n`);
    }
  };
  await tick();
  setInterval(tick, 1000);
  process.on("SIGTERM", () => process.exit(0));
}

// ------------------------------------------------------------------ main ---

record();
const cmd = argv.slice(0, 2).join(" ");
if (cmd === "server run") serverRun(argv.slice(2));
else if (cmd === "runner agent") runnerAgent(argv.slice(2));
else if (argv[0] === "version") process.stdout.write("CLI: v0.11.4 (pilot stand-in)\n");
else cli(argv);
