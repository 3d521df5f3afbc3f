import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, type NodeServerRequest } from "@parley/runtime";
import { clientAddress, TrustedProxies } from "../src/client-address.js";
import { loadGatewayConfig } from "../src/config.js";

/** What clientAddress reads of a request: the socket's peer and the X-Forwarded-For header. */
const request = (peer: string, forwardedFor?: string | string[]) =>
  ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor } }) as unknown as NodeServerRequest;

describe("gateway > client address", () => {
  const none = new TrustedProxies([]);
  const balancers = new TrustedProxies(["10.0.0.0/8", "192.0.2.10", "2001:db8:ffff::/48"]);

  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    assert.equal(clientAddress(request("198.51.100.7", "203.0.113.1"), none), "198.51.100.7");
    assert.equal(clientAddress(request("::ffff:198.51.100.7"), none), "198.51.100.7");
  });

  it("is the socket's peer when that peer is not a trusted proxy", () => {
    assert.equal(clientAddress(request("198.51.100.7", "203.0.113.1"), balancers), "198.51.100.7");
  });

  it("is the rightmost untrusted X-Forwarded-For hop behind trusted proxies, ignoring what the client wrote to its left", () => {
    assert.equal(clientAddress(request("10.1.2.3", "203.0.113.1"), balancers), "203.0.113.1");
    assert.equal(clientAddress(request("10.1.2.3", "1.2.3.4, 203.0.113.1, 192.0.2.10"), balancers), "203.0.113.1");
    assert.equal(clientAddress(request("::ffff:10.1.2.3", ["6.6.6.6", "2001:db8::5, 2001:db8:ffff:1::1"]), balancers), "2001:db8::5");
    assert.equal(clientAddress(request("10.1.2.3", "[2001:db8::5]:4711"), balancers), "2001:db8::5");
    assert.equal(clientAddress(request("10.1.2.3", "203.0.113.1:4711"), balancers), "203.0.113.1");
  });

  it("is the leftmost hop when every hop is a trusted proxy, and the peer when the header is missing", () => {
    assert.equal(clientAddress(request("10.1.2.3", "10.9.9.9, 192.0.2.10"), balancers), "10.9.9.9");
    assert.equal(clientAddress(request("10.1.2.3"), balancers), "10.1.2.3");
  });

  it("refuses GATEWAY_TRUSTED_PROXIES entries that are not addresses or CIDR ranges, naming the variable", () => {
    for (const bad of ["10.0.0.0/33", "example.com", "10.0.0.1/8/8", "2001:db8::/129"]) {
      assert.throws(
        () => loadGatewayConfig({ GATEWAY_TRUSTED_PROXIES: `192.0.2.1, ${bad}` }),
        (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith("GATEWAY_TRUSTED_PROXIES:")),
      );
    }
    assert.deepEqual(loadGatewayConfig({ GATEWAY_TRUSTED_PROXIES: " 10.0.0.0/8 ,2001:db8::1" }).trustedProxies, ["10.0.0.0/8", "2001:db8::1"]);
    assert.deepEqual(loadGatewayConfig({}).trustedProxies, []);
  });
});
