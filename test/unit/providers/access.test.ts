/**
 * Who may reach the server (src/providers/access.ts): the one posture every
 * cloud applies to SSH and Waypoint. A slip here opens the server to more
 * than the operator asked for, so each rule is pinned on its own.
 */
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { CHECKIP_URL, checkAllowCidrs, detectPublicIp, normaliseCidr, operatorCidr } from "../../../src/providers/access.js";
import { UsageError } from "../../../src/errors.js";

describe("normaliseCidr", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7/32"],
    [" 203.0.113.7/32 ", "203.0.113.7/32"],
    ["203.0.113.7/24", "203.0.113.0/24"],
    ["203.0.113.255/25", "203.0.113.128/25"],
    ["10.200.30.4/9", "10.128.0.0/9"],
    ["255.255.255.255/1", "128.0.0.0/1"],
    ["8.8.8.8/0", "0.0.0.0/0"],
    ["0.0.0.0/32", "0.0.0.0/32"],
  ])("%s → %s", (input, out) => {
    expect(normaliseCidr(input)).toBe(out);
  });

  it.each(["203.0.113.7/33", "203.0.113.256", "203.0.113", "203.0.113.7.1", "203.0.113.07", "203.0.113.7/", "203.0.113.7/024", "203.0.113.7/8/8", "a.b.c.d", "", "/32", "203.0.113.-1", "2001:db8::/32", "203.0.113.7/-1", "203.0.113.7/3a"])(
    "refuses %j with a usage error that shows the form",
    (input) => {
      let err: unknown;
      try {
        normaliseCidr(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toBe(`--allow-cidr "${input}" is not an IPv4 CIDR.`);
      expect((err as UsageError).hint).toMatch(/203\.0\.113\.4\/32/);
    },
  );
});

describe("checkAllowCidrs", () => {
  it("takes one value or many, normalised, without duplicates, sorted", () => {
    expect(checkAllowCidrs("203.0.113.7", undefined, false)).toEqual(["203.0.113.7/32"]);
    expect(checkAllowCidrs(["203.0.113.9", "198.51.100.0/24", "203.0.113.9/32", "198.51.100.7/24"], undefined, false)).toEqual(["198.51.100.0/24", "203.0.113.9/32"]);
  });

  it("falls back to the stored ranges only when no flag is given", () => {
    expect(checkAllowCidrs(undefined, ["203.0.113.9/32", "192.0.2.1"], false)).toEqual(["192.0.2.1/32", "203.0.113.9/32"]);
    expect(checkAllowCidrs(["198.51.100.1"], ["203.0.113.9/32"], false)).toEqual(["198.51.100.1/32"]);
    expect(checkAllowCidrs(undefined, "203.0.113.9/32", false)).toEqual([]);
    expect(checkAllowCidrs(undefined, undefined, false)).toEqual([]);
  });

  it("refuses the world (any /0) unless --allow-world, also from stored ranges", () => {
    for (const [flag, stored] of [[["0.0.0.0/0"], undefined], [["198.51.100.1", "10.1.2.3/0"], undefined], [undefined, ["0.0.0.0/0"]]] as const) {
      let err: unknown;
      try {
        checkAllowCidrs(flag, stored, false);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toBe("--allow-cidr 0.0.0.0/0 would open SSH and Waypoint to the whole internet.");
      expect((err as UsageError).hint).toMatch(/--allow-world/);
    }
    expect(checkAllowCidrs(["0.0.0.0/0", "198.51.100.1"], undefined, true)).toEqual(["0.0.0.0/0", "198.51.100.1/32"]);
  });
});

describe("operatorCidr", () => {
  it("is the detected address as a /32", async () => {
    expect(await operatorCidr(async () => "198.51.100.7")).toEqual(["198.51.100.7/32"]);
  });
  it.each([undefined, "", "not an address", "198.51.100.7/32", "198.51.100.700"])("stops with a usage error when detection gives %j", async (found) => {
    const err = await operatorCidr(async () => found).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/Could not detect your public IP address/);
    expect((err as UsageError).hint).toMatch(/--allow-cidr/);
  });
});

describe("detectPublicIp (against a local HTTP server; never the internet)", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));
  const serve = (status: number, body: string, delayMs = 0): Promise<string> =>
    new Promise((resolve) => {
      server = createServer((_req, res) => {
        setTimeout(() => {
          res.writeHead(status, { "content-type": "text/plain" });
          res.end(body);
        }, delayMs);
      });
      server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server!.address() as { port: number }).port}/`));
    });

  it("asks AWS's own endpoint by default", () => {
    expect(CHECKIP_URL).toBe("https://checkip.amazonaws.com/");
  });
  it("reads one address, trimmed", async () => {
    expect(await detectPublicIp(await serve(200, " 198.51.100.7\n"))).toBe("198.51.100.7");
  });
  it.each([
    [500, "198.51.100.7"],
    [200, "<html>captive portal</html>"],
    [200, "198.51.100.7/32"],
  ])("gives undefined for HTTP %i %j", async (status, body) => {
    expect(await detectPublicIp(await serve(status, body))).toBeUndefined();
  });
  it("gives up after its timeout, and on a refused connection", async () => {
    const started = Date.now();
    expect(await detectPublicIp(await serve(200, "198.51.100.7", 2_000), 100)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_500);
    const url = await serve(200, "x");
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    expect(await detectPublicIp(url)).toBeUndefined();
  });
});
