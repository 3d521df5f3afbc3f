import { after, before, describe, it } from "node:test";
import type { ChatWorld } from "./support/chat-scenarios.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { mentions } from "./support/mentions-scenario.js";
import { reactions } from "./support/reactions-scenario.js";
import { replies } from "./support/replies-scenario.js";
import { TlsMesh } from "./support/tls-mesh.js";
import { embeddedWorld, httpWorld } from "./support/worlds.js";

describe("reactions, replies and mentions through real WebSockets (embedded mode, npm start's code path)", () => {
  let p: EmbeddedParley;
  let world: ChatWorld;
  before(async () => {
    p = await startParley();
    world = embeddedWorld(p);
  });
  after(() => p?.close());

  it("reactions reach every device live and by sync with their counts, history counts them, bad input is refused clearly", () => reactions(world, "re_emb"));

  it("replies reach every device live and by sync with the quote as it stands when read, history too, bad reply_to is refused clearly", () =>
    replies(world, "rp_emb"));

  it("mentions are resolved at the send to members' ids, shown live, in history and by sync, and counted as unread mentions", () => mentions(world, "mn_emb"));
});

describe("reactions, replies and mentions through real WebSockets (distributed mode: each service its own process, chat on Postgres)", () => {
  let m: TlsMesh;
  let world: ChatWorld;
  before(async () => {
    m = await TlsMesh.start();
    world = httpWorld(() => m.gateway.url);
  });
  after(() => m?.close());

  it("reactions reach every device live and by sync with their counts, history counts them, bad input is refused clearly", () => reactions(world, "re_dist"));

  it("replies reach every device live and by sync with the quote as it stands when read, history too, bad reply_to is refused clearly", () =>
    replies(world, "rp_dist"));

  it("mentions are resolved at the send to members' ids, shown live, in history and by sync, and counted as unread mentions", () => mentions(world, "mn_dist"));
});
