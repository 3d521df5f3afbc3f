import { after, before, describe, it } from "node:test";
import { blockAndUnblock } from "./support/blocking-scenario.js";
import type { ChatWorld } from "./support/chat-scenarios.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { callApi } from "./support/http-api.js";
import { TlsMesh } from "./support/tls-mesh.js";

describe("blocking through real WebSockets (embedded mode, npm start's code path)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley();
  });
  after(() => p?.close());

  it("refuses direct conversations and sends both ways, hides presence, leaves groups alone, and unblocking restores it all", () => {
    const signedUp = new Set<string>();
    const world: ChatWorld = {
      gatewayUrl: p.url,
      async login(username, deviceName) {
        if (signedUp.has(username)) return p.logIn(username, deviceName);
        signedUp.add(username);
        return p.user(username, deviceName);
      },
    };
    return blockAndUnblock(world, "bl_emb");
  });
});

describe("blocking through real WebSockets (distributed mode: each service its own process, over TLS)", () => {
  let m: TlsMesh;
  before(async () => {
    m = await TlsMesh.start();
  });
  after(() => m?.close());

  it("refuses direct conversations and sends both ways, hides presence, leaves groups alone, and unblocking restores it all", () => {
    const signedUp = new Set<string>();
    const world: ChatWorld = {
      gatewayUrl: m.gateway.url,
      async login(username, deviceName) {
        if (!signedUp.has(username)) {
          signedUp.add(username);
          await callApi(m.gateway.url, "SignUp", { username, password: "correct horse battery" });
        }
        const res = await callApi(m.gateway.url, "LogIn", { username, password: "correct horse battery", deviceName });
        return { token: res.body.session.accessToken as string, userId: BigInt(res.body.profile.userId) };
      },
    };
    return blockAndUnblock(world, "bl_dist");
  });
});
