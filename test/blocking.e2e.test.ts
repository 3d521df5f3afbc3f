import { after, before, describe, it } from "node:test";
import { blockAndUnblock } from "./support/blocking-scenario.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { TlsMesh } from "./support/tls-mesh.js";
import { embeddedWorld, httpWorld } from "./support/worlds.js";

describe("blocking through real WebSockets (embedded mode, npm start's code path)", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley();
  });
  after(() => p?.close());

  it("refuses direct conversations and sends both ways, hides presence, leaves groups alone, and unblocking restores it all", () => {
    return blockAndUnblock(embeddedWorld(p), "bl_emb");
  });
});

describe("blocking through real WebSockets (distributed mode: each service its own process, over TLS)", () => {
  let m: TlsMesh;
  before(async () => {
    m = await TlsMesh.start();
  });
  after(() => m?.close());

  it("refuses direct conversations and sends both ways, hides presence, leaves groups alone, and unblocking restores it all", () => {
    const world = httpWorld(() => m.gateway.url);
    return blockAndUnblock(world, "bl_dist");
  });
});
