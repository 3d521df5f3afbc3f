import { after, before, describe, it } from "node:test";
import type { ChatWorld } from "./support/chat-scenarios.js";
import { editAndDelete } from "./support/edit-delete-scenario.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { TlsMesh } from "./support/tls-mesh.js";
import { embeddedWorld, httpWorld } from "./support/worlds.js";

/** Short enough for the scenario's last step to see it pass, long enough for its edits before then. */
const WINDOW = { CHAT_EDIT_WINDOW_SECONDS: "4" };

describe("message edits and deletions through real WebSockets (embedded mode, npm start's code path)", () => {
  let p: EmbeddedParley;
  let world: ChatWorld;
  before(async () => {
    p = await startParley(WINDOW);
    world = embeddedWorld(p);
  });
  after(() => p?.close());

  it("reaches every device live and by sync, shows the edited mark and the tombstone in history, and refuses bad input clearly", () =>
    editAndDelete(world, "ed_emb"));
});

describe("message edits and deletions through real WebSockets (distributed mode: each service its own process, chat on Postgres)", () => {
  let m: TlsMesh;
  before(async () => {
    m = await TlsMesh.start(WINDOW);
  });
  after(() => m?.close());

  it("reaches every device live and by sync, shows the edited mark and the tombstone in history, and refuses bad input clearly", () => {
    const world = httpWorld(() => m.gateway.url);
    return editAndDelete(world, "ed_dist");
  });
});
