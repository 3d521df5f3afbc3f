import { after, before, describe, it } from "node:test";
import { chatBothWays, multiDevice, offlineCatchUp, retryAfterDrop, type ChatWorld } from "./support/chat-scenarios.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";

// By default the gateway paces its commands by chat's replies (one batch out at a time, the rest
// held up to 5 ms and sent together); also without pacing, every turn's commands at its end:
// the same guarantees, whatever leaves together.
const modes: [string, Record<string, string>][] = [
  ["", {}],
  [", commands not paced", { GATEWAY_CHAT_BATCHES_IN_FLIGHT: "0" }],
];

for (const [mode, env] of modes) {
  describe(`one-to-one chat through the SDK (embedded mode${mode})`, () => {
    let p: EmbeddedParley;
    let world: ChatWorld;
    before(async () => {
      p = await startParley(env);
      const signedUp = new Set<string>();
      world = {
        gatewayUrl: p.url,
        async login(username, deviceName) {
          if (!signedUp.has(username)) {
            signedUp.add(username);
            return p.user(username, deviceName);
          }
          return p.logIn(username, deviceName);
        },
      };
    });
    after(() => p?.close());

    it("lets A and B chat both ways with order kept and acks carrying ids and seqs", () => chatBothWays(world, "both"));
    it("delivers every message live to each of B's devices and A's own sends to A's other device", () => multiDevice(world, "multi"));
    it("gives B all 500 messages sent while offline, once each and in order", () => offlineCatchUp(world, "offline"));
    it("stores exactly one message when A retries a send whose connection dropped before the ack", () => retryAfterDrop(world, "retry"));
  });
}
