import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadGatewayConfig } from "../src/config.js";
import { safeName, securityHeaders } from "../src/web-app.js";
import { sameOrigin } from "../src/ws/handshake.js";

describe("gateway > web app > file names", () => {
  it("accepts the bundle's files, nested ones included", () => {
    assert.equal(safeName("index.html"), "index.html");
    assert.equal(safeName("app.js"), "app.js");
    assert.equal(safeName("assets/logo.svg"), "assets/logo.svg");
  });
  it("refuses anything that could leave the folder or is not an app file", () => {
    for (const raw of [
      "../secret.js",
      "..%2fsecret.js",
      "%2e%2e/secret.js",
      "a/../../b.js",
      "..%5cb.js",
      "..\\b.js",
      ".env",
      "a/.git/config.js",
      "x.js%00",
      "%E0%A4%A.js",
      "/etc/passwd.js",
      "a//b.js",
      "package.json",
      "app.ts",
      "secret",
    ]) {
      assert.equal(safeName(raw), undefined, raw);
    }
  });
});

describe("gateway > web app > same-origin WebSocket", () => {
  it("takes a page on the host the request was sent to, whatever the scheme", () => {
    assert.equal(sameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"), true);
    assert.equal(sameOrigin("https://chat.example", "chat.example"), true);
    assert.equal(sameOrigin("https://Chat.Example", "CHAT.example"), true);
  });
  it("refuses other hosts, ports and schemes, and requests without Origin or Host", () => {
    assert.equal(sameOrigin("http://127.0.0.1:8081", "127.0.0.1:8080"), false);
    assert.equal(sameOrigin("https://evil.example", "chat.example"), false);
    assert.equal(sameOrigin("null", "chat.example"), false);
    assert.equal(sameOrigin("file://chat.example", "chat.example"), false);
    assert.equal(sameOrigin(undefined, "chat.example"), false);
    assert.equal(sameOrigin("https://chat.example", undefined), false);
  });
});

describe("gateway > web app > headers", () => {
  it("allows scripts, styles and connections to this origin only, and names its WebSocket", () => {
    const headers = securityHeaders("127.0.0.1:8080");
    assert.match(headers["content-security-policy"]!, /connect-src 'self' ws:\/\/127\.0\.0\.1:8080 wss:\/\/127\.0\.0\.1:8080;/);
    assert.doesNotMatch(headers["content-security-policy"]!, /unsafe-inline|unsafe-eval/);
    assert.equal(headers["x-content-type-options"], "nosniff");
  });
  it("leaves a malformed Host out of the policy", () => {
    assert.match(securityHeaders("evil.example; script-src *")["content-security-policy"]!, /connect-src 'self';/);
  });
});

describe("gateway configuration > the web app", () => {
  it("is on by default, off with GATEWAY_WEB_APP=off, and refuses other values naming the variable", () => {
    assert.equal(loadGatewayConfig({}).webApp, true);
    assert.equal(loadGatewayConfig({ GATEWAY_WEB_APP: "off" }).webApp, false);
    assert.throws(() => loadGatewayConfig({ GATEWAY_WEB_APP: "yes" }), /GATEWAY_WEB_APP.*must be one of on, off/s);
  });
});
