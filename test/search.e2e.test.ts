import { after, before, describe, it } from "node:test";
import type { ChatWorld } from "./support/chat-scenarios.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { callApi } from "./support/http-api.js";
import { searchMessages } from "./support/search-scenario.js";
import { TlsMesh } from "./support/tls-mesh.js";

describe("message search through real WebSockets (embedded mode, npm start's code path: SQLite FTS5)", () => {
  let p: EmbeddedParley;
  let world: ChatWorld;
  before(async () => {
    p = await startParley();
    const signedUp = new Set<string>();
    world = {
      gatewayUrl: p.url,
      async login(username, deviceName) {
        if (signedUp.has(username)) return p.logIn(username, deviceName);
        signedUp.add(username);
        return p.user(username, deviceName);
      },
    };
  });
  after(() => p?.close());

  it("finds only what each user's history shows, newest first and paged, follows edits and deletions, and refuses bad input naming the field", () =>
    searchMessages(world, "se_emb"));
});

describe("message search through real WebSockets (distributed mode: each service its own process, chat on Postgres full-text search)", () => {
  let m: TlsMesh;
  before(async () => {
    m = await TlsMesh.start();
  });
  after(() => m?.close());

  it("finds only what each user's history shows, newest first and paged, follows edits and deletions, and refuses bad input naming the field", () => {
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
    return searchMessages(world, "se_dist");
  });
});
