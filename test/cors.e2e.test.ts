import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startParley, type EmbeddedParley } from "./support/embedded.js";

const SIGN_UP = "/parley.account.v1.AccountService/SignUp";

/** What a browser sends before a cross-origin JSON POST with a token. */
function preflight(url: string, origin: string): Promise<Response> {
  return fetch(`${url}${SIGN_UP}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization,connect-protocol-version" },
  });
}

function signUp(url: string, username: string, origin?: string): Promise<Response> {
  return fetch(`${url}${SIGN_UP}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(origin === undefined ? {} : { origin }) },
    body: JSON.stringify({ username, password: "correct horse battery" }),
  });
}

describe("CORS on the public HTTP API (embedded mode, real HTTP)", () => {
  describe("with an allowlist", () => {
    let p: EmbeddedParley;
    before(async () => {
      p = await startParley({ GATEWAY_ALLOWED_ORIGINS: "https://app.example, https://admin.example" });
    });
    after(() => p?.close());

    it("answers a preflight from an allowed origin with 204, the origin echoed, and what the API needs", async () => {
      const res = await preflight(p.url, "https://admin.example");
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "https://admin.example");
      assert.equal(res.headers.get("vary"), "Origin");
      const methods = (res.headers.get("access-control-allow-methods") ?? "").split(", ");
      assert.deepEqual(methods.sort(), ["GET", "OPTIONS", "POST"]);
      const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(", ");
      for (const header of ["content-type", "authorization", "connect-protocol-version", "connect-timeout-ms", "x-request-id"]) {
        assert.ok(allowed.includes(header), `${header} allowed`);
      }
      assert.ok(Number(res.headers.get("access-control-max-age")) > 0);
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
    });
    it("refuses a preflight from another origin with 403 and no CORS headers", async () => {
      const res = await preflight(p.url, "https://evil.example");
      assert.equal(res.status, 403);
      assert.equal(await res.text(), "origin not allowed\n");
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal(res.headers.get("access-control-allow-methods"), null);
    });
    it("lets an allowed origin read a sign-up's answer and its request id", async () => {
      const res = await signUp(p.url, "cors_alice", "https://app.example");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
      const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(", ");
      for (const header of ["x-request-id", "retry-after", "grpc-status", "grpc-message"]) assert.ok(exposed.includes(header), `${header} exposed`);
      assert.ok(res.headers.get("x-request-id"));
    });
    it("gives a call from another origin no CORS headers, so its page cannot read the answer", async () => {
      const res = await signUp(p.url, "cors_mallory", "https://evil.example");
      await res.text();
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal(res.headers.get("access-control-expose-headers"), null);
    });
    it("leaves calls without Origin as they were", async () => {
      const res = await signUp(p.url, "cors_bob");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal(res.headers.get("vary"), null);
      const options = await fetch(`${p.url}${SIGN_UP}`, { method: "OPTIONS" });
      assert.equal(options.status, 405);
    });
  });

  describe("with *", () => {
    let p: EmbeddedParley;
    before(async () => {
      p = await startParley({ GATEWAY_ALLOWED_ORIGINS: "*" });
    });
    after(() => p?.close());

    it("echoes any origin, never *, on preflights and calls", async () => {
      const res = await preflight(p.url, "https://anywhere.example");
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "https://anywhere.example");
      const call = await signUp(p.url, "cors_carol", "http://localhost:5173");
      assert.equal(call.status, 200);
      assert.equal(call.headers.get("access-control-allow-origin"), "http://localhost:5173");
    });
  });
});
