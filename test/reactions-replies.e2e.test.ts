import { after, before, describe, it } from "node:test";
import { DeliveryState, NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import type { ChatWorld } from "./support/chat-scenarios.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { mentionPushThroughMute } from "./support/mention-push-scenario.js";
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

  it("a mention pushes through a muted conversation unless the recipient's mute_mentions is on", () =>
    mentionPushThroughMute(world, "mp_emb", async (userId, eventId) => {
      const found = (await p.parley.notify.notifications.listForUser(userId, 50)).find((n) => n.notification.eventId === eventId);
      const delivery = found?.deliveries[0];
      if (delivery === undefined || delivery.state === "pending") return undefined;
      return delivery.state === "skipped" ? `skipped: ${delivery.lastError}` : delivery.state;
    }));
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

  it("a mention pushes through a muted conversation unless the recipient's mute_mentions is on", () => {
    const notify = m.clientAs(NotifyService, "operator:test", m.notify, "notify");
    return mentionPushThroughMute(world, "mp_dist", async (userId, eventId) => {
      const found = (await notify.listUserNotifications({ userId, limit: 100 })).notifications.find((n) => n.eventId === eventId);
      const delivery = found?.deliveries[0];
      if (delivery === undefined || delivery.state === DeliveryState.PENDING) return undefined;
      if (delivery.state === DeliveryState.SKIPPED) return `skipped: ${delivery.lastError}`;
      return delivery.state === DeliveryState.SENT ? "sent" : DeliveryState[delivery.state];
    });
  });
});
