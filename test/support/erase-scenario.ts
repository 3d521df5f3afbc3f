import assert from "node:assert/strict";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { ChatModerationService } from "@parley/contracts/parley/chat/v1/chat";
import type { NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import { until } from "@parley/testkit";
import type { ChatWorld } from "./chat-scenarios.js";
import { callApi } from "./http-api.js";
import { connectDevice, type Device } from "./sdk.js";

/** What notify keeps of one notification (read from its store: the API does not show params or content). */
export interface NotifyCopy {
  eventId: string;
  params: Record<string, string>;
  content: { title: string; body: string };
  deliveries: { state: string; lastError: string }[];
}

const SECRET = "the vault code is 4711";

/**
 * A message deleted for everyone leaves notify too, end to end (ChatWorld is
 * either run mode): A messages B, who is offline with a push token, so notify
 * stores a notification holding the text; A deletes it for everyone; notify's
 * copy loses the text (params and rendered content) while B's notification of
 * another message keeps its own. An operator's deletion of another message
 * erases its copy as well. `stored` reads notify's store; `clients` are
 * NotifyService as chat (for the bad-input checks of Erase) and
 * ChatModerationService as an operator.
 */
export async function deletionErasesNotify(
  world: ChatWorld,
  prefix: string,
  stored: (userId: bigint) => Promise<NotifyCopy[]>,
  clients: { notify: Client<typeof NotifyService>; operator: Client<typeof ChatModerationService> },
): Promise<void> {
  const { notify, operator } = clients;
  const a = await world.login(`${prefix}_a`, "phone");
  const b = await world.login(`${prefix}_b`, "phone");
  const token = await callApi(world.gatewayUrl, "SetPushToken", { platform: "PUSH_PLATFORM_FCM", token: `fcm-${prefix}-b` }, b.token);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  let alice: Device | undefined;
  try {
    alice = await connectDevice(world.gatewayUrl, a.token);
    const id = (await alice.client.openDirect(b.userId)).conversationId;
    const secret = await alice.client.send(id, SECRET);
    const kept = await alice.client.send(id, "this one stays");
    const rude = await alice.client.send(id, "a rude remark");
    const copyOf = async (messageId: bigint) => (await stored(b.userId)).find((n) => n.eventId === `message:${messageId}:${b.userId}`);
    await until(
      async () => (await copyOf(secret.messageId))?.params.preview === SECRET && (await copyOf(kept.messageId)) && (await copyOf(rude.messageId)),
      "notify's copies",
    );
    assert.match(JSON.stringify(await copyOf(secret.messageId)), /vault code/, "the push stored the text");

    const deleted = await alice.client.deleteMessage(id, secret.messageId, { forEveryone: true });
    assert.equal(deleted.unchanged, false);
    await until(async () => !JSON.stringify(await copyOf(secret.messageId)).includes("vault"), "notify's copy to lose the text");
    const erased = (await copyOf(secret.messageId))!;
    assert.equal(erased.params.preview, undefined);
    assert.equal(erased.content.body, "Message deleted");
    assert.equal(erased.content.title, `${prefix}_a`, "the sender's name stays: only the text goes");
    // Sent already, or skipped (erased, or superseded by the later push of the same conversation): none left to send.
    for (const d of erased.deliveries) assert.ok(d.state === "sent" || d.state === "skipped", JSON.stringify(d));
    assert.equal((await copyOf(kept.messageId))!.params.preview, "this one stays", "only the deleted message is erased");

    // An operator's deletion (in the sender's name) erases notify's copy too.
    assert.match(JSON.stringify(await copyOf(rude.messageId)), /rude remark/);
    assert.equal((await operator.moderateDeleteMessage({ conversationId: id, messageId: rude.messageId, reason: "report 3" })).unchanged, false);
    await until(async () => !JSON.stringify(await copyOf(rude.messageId)).includes("rude"), "the moderated message's copy to lose the text");
    assert.equal((await copyOf(rude.messageId))!.content.body, "Message deleted");

    // Erase's bad input, as chat would send it.
    const invalid = async (eventIds: string[], message: RegExp) =>
      assert.rejects(notify.erase({ eventIds }), (err: unknown) => {
        const e = ConnectError.from(err);
        assert.equal(Code[e.code], Code[Code.InvalidArgument], e.message);
        assert.match(e.rawMessage, message);
        return true;
      });
    await invalid([], /event_ids must list 1 to 500 event ids/);
    await invalid(
      Array.from({ length: 501 }, (_, i) => `message:${i}:1`),
      /event_ids must list 1 to 500 event ids/,
    );
    await invalid(["message:1:1", "x".repeat(129)], /event_ids\[1\] must be 1 to 128 characters/);
    assert.equal((await notify.erase({ eventIds: [`message:${secret.messageId}:${b.userId}`] })).erased, 1, "a repeat finds it, erased already");
  } finally {
    await alice?.client.close();
  }
}
