import { after, before, describe, it } from "node:test";
import type { ChatWorld } from "./support/chat-scenarios.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { searchMessages } from "./support/search-scenario.js";
import { TlsMesh } from "./support/tls-mesh.js";
import { embeddedWorld, httpWorld } from "./support/worlds.js";

describe("message search through real WebSockets (embedded mode, npm start's code path: SQLite FTS5)", () => {
  let p: EmbeddedParley;
  let world: ChatWorld;
  before(async () => {
    p = await startParley();
    world = embeddedWorld(p);
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
    const world = httpWorld(() => m.gateway.url);
    return searchMessages(world, "se_dist");
  });
});
