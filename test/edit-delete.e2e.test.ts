import { after, before, describe, it } from "node:test";
import type { ChatWorld } from "./support/chat-scenarios.js";
import { editAndDelete } from "./support/edit-delete-scenario.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { callApi } from "./support/http-api.js";
import { TlsMesh } from "./support/tls-mesh.js";

/** Short enough for the scenario's last step to see it pass, long enough for its edits before then. */
const WINDOW = { CHAT_EDIT_WINDOW_SECONDS: "4" };

describe("message edits and deletions through real WebSockets (embedded mode, npm start's code path)", () => {
  let p: EmbeddedParley;
  let world: ChatWorld;
  before(async () => {
    p = await startParley(WINDOW);
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
    return editAndDelete(world, "ed_dist");
  });
});
