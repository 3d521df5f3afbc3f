import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { AccountModerationService } from "@parley/contracts/parley/account/v1/account";
import { ChatModerationService } from "@parley/contracts/parley/chat/v1/chat";
import { freePorts } from "@parley/testkit";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { moderate } from "./support/moderation-scenario.js";
import { TlsMesh } from "./support/tls-mesh.js";

describe("operators' moderation on the internal plane (embedded mode: npm start's INTERNAL_PORT)", () => {
  let p: EmbeddedParley;
  before(async () => {
    const [port] = await freePorts(1);
    p = await startParley({ INTERNAL_PORT: String(port) });
  });
  after(() => p?.close());

  it("finds a user, ends a session (4102), deletes a message for everyone, disables (4201, log-in refused) and enables an account; refuses non-operators", () =>
    moderate(
      {
        gatewayUrl: p.url,
        wsUrl: p.wsUrl,
        accountAs: (principal) => createClient(AccountModerationService, p.internalAs(principal, "account")),
        chatAs: (principal) => createClient(ChatModerationService, p.internalAs(principal, "chat")),
      },
      "mod_emb",
    ));
});

describe("operators' moderation on the internal plane (distributed mode: each service its own process, over TLS)", () => {
  let m: TlsMesh;
  before(async () => {
    m = await TlsMesh.start();
  });
  after(() => m?.close());

  it("finds a user, ends a session (4102), deletes a message for everyone, disables (4201, log-in refused) and enables an account; refuses non-operators", () =>
    moderate(
      {
        gatewayUrl: m.gateway.url,
        wsUrl: `${m.gateway.url.replace("http", "ws")}/ws`,
        accountAs: (principal) => m.clientAs(AccountModerationService, principal, m.account, "account"),
        chatAs: (principal) => m.clientAs(ChatModerationService, principal, m.chat, "chat"),
      },
      "mod_dist",
    ));
});
