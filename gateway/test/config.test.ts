import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@parley/runtime";
import { loadGatewayConfig } from "../src/config.js";

function problems(env: Record<string, string>): string[] {
  try {
    loadGatewayConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

describe("gateway configuration > the public port's TLS", () => {
  it("serves cleartext on loopback by default", () => {
    assert.equal(loadGatewayConfig({}).publicTls, undefined);
  });

  it("refuses to serve clients beyond loopback in cleartext unless told TLS ends at a proxy", () => {
    assert.match(problems({ HOST: "0.0.0.0" })[0] ?? "", /^PUBLIC_TLS_CERT_FILE: is required to serve clients on 0\.0\.0\.0/);
    assert.deepEqual(problems({ HOST: "0.0.0.0", ALLOW_PLAINTEXT: "true" }), []);
    assert.deepEqual(problems({ HOST: "0.0.0.0", PUBLIC_TLS_CERT_FILE: "/c.pem", PUBLIC_TLS_KEY_FILE: "/k.pem" }), []);
  });

  it("takes the certificate and key together or not at all", () => {
    assert.match(problems({ PUBLIC_TLS_CERT_FILE: "/c.pem" })[0] ?? "", /PUBLIC_TLS_CERT_FILE and PUBLIC_TLS_KEY_FILE: set both/);
  });
});

describe("gateway configuration > the public port's accept queue", () => {
  it("defaults to 4096 and refuses values outside 1-65535 with a message naming the variable", () => {
    assert.equal(loadGatewayConfig({}).listenBacklog, 4_096);
    assert.equal(loadGatewayConfig({ GATEWAY_LISTEN_BACKLOG: "511" }).listenBacklog, 511);
    for (const bad of ["0", "65536", "many"]) assert.match(problems({ GATEWAY_LISTEN_BACKLOG: bad })[0] ?? "", /^GATEWAY_LISTEN_BACKLOG: /);
  });
});

describe("gateway configuration > pacing of chat commands", () => {
  it("paces by replies, one batch out at a time and the rest held up to 5 ms, unless told otherwise", () => {
    assert.deepEqual(loadGatewayConfig({}).chatPacing, { maxUnansweredBatches: 1, holdMs: 5, lingerMs: 0 });
    assert.equal(
      loadGatewayConfig({ GATEWAY_CHAT_BATCHES_IN_FLIGHT: "0" }).chatPacing.maxUnansweredBatches,
      Number.POSITIVE_INFINITY,
      "0: every turn's at its end",
    );
    assert.deepEqual(loadGatewayConfig({ GATEWAY_CHAT_BATCHES_IN_FLIGHT: "2" }).chatPacing, { maxUnansweredBatches: 2, holdMs: 5, lingerMs: 0 });
    assert.deepEqual(loadGatewayConfig({ GATEWAY_CHAT_BATCHES_IN_FLIGHT: "1", GATEWAY_CHAT_HOLD_MS: "0" }).chatPacing, {
      maxUnansweredBatches: 1,
      holdMs: 0,
      lingerMs: 0,
    });
    assert.deepEqual(loadGatewayConfig({ GATEWAY_CHAT_LINGER_MS: "3" }).chatPacing, { maxUnansweredBatches: 1, holdMs: 5, lingerMs: 3 });
    assert.equal(loadGatewayConfig({ GATEWAY_CHAT_BATCHES_IN_FLIGHT: "0", GATEWAY_CHAT_LINGER_MS: "3" }).chatPacing.lingerMs, 3, "a linger without pacing");
  });

  it("refuses values outside the ranges, naming the variable", () => {
    assert.match(problems({ GATEWAY_CHAT_BATCHES_IN_FLIGHT: "-1" })[0] ?? "", /^GATEWAY_CHAT_BATCHES_IN_FLIGHT: must be a whole number from 0 to 1000/);
    assert.match(problems({ GATEWAY_CHAT_HOLD_MS: "500" })[0] ?? "", /^GATEWAY_CHAT_HOLD_MS: must be a whole number from 0 to 100/);
    assert.match(problems({ GATEWAY_CHAT_LINGER_MS: "-1" })[0] ?? "", /^GATEWAY_CHAT_LINGER_MS: must be a whole number from 0 to 100/);
  });
});
