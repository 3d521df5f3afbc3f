import assert from "node:assert/strict";
import { until } from "@parley/testkit";
import type { ChatWorld } from "./chat-scenarios.js";
import { callApi } from "./http-api.js";
import { connectDevice } from "./sdk.js";

/**
 * How notify decided one push: "sent", or "skipped: <reason>"; undefined
 * while notify has no such notification or its push is still pending.
 * Each run mode reads notify its own way (in process, or over gRPC as an
 * operator).
 */
export type PushDecision = (userId: bigint, eventId: string) => Promise<string | undefined>;

/**
 * Mentions and mutes end to end: chat resolves the mention, hands the push
 * to notify with `mentioned`, and notify decides by the recipient's settings.
 * B is offline with a push token and muted the group: a plain message is
 * skipped as muted, a message mentioning B is pushed anyway; once B turns
 * mute_mentions on, a mention is skipped too. Messages to B are acked
 * before each check, so every push decision is notify's, not a race.
 */
export async function mentionPushThroughMute(world: ChatWorld, prefix: string, decisionOf: PushDecision): Promise<void> {
  const names = { a: `${prefix}_a`, b: `${prefix}_b` };
  const a1 = await world.login(names.a, "phone");
  const b1 = await world.login(names.b, "phone");
  const token = await callApi(world.gatewayUrl, "SetPushToken", { platform: "PUSH_PLATFORM_FCM", token: `fcm-${prefix}-b` }, b1.token);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  const alice = await connectDevice(world.gatewayUrl, a1.token);
  try {
    const group = (await alice.client.createGroup(`${prefix} group`, [b1.userId])).conversationId;
    const settings = (values: Record<string, unknown>, fields: string[]) => callApi(world.gatewayUrl, "UpdateSettings", { settings: values, fields }, b1.token);
    const mute = await settings({ mutedConversationIds: [group.toString()] }, ["muted_conversation_ids"]);
    assert.equal(mute.status, 200, JSON.stringify(mute.body));

    // Notify learns of a settings change from account's announcements, so until it applies a decision may follow the
    // old settings: each try sends a new message and waits for notify's decision on it.
    const sendUntilDecided = (text: string, expected: string, what: string) =>
      until(
        async () => {
          const { messageId } = await alice.client.send(group, text);
          const eventId = `message:${messageId}:${b1.userId}`;
          const decision = await until(() => decisionOf(b1.userId, eventId), "notify's decision", { timeoutMs: 10_000, intervalMs: 50 });
          return decision === expected;
        },
        what,
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    await sendUntilDecided("plain, muted", "skipped: conversation muted", "a plain message in the muted group to be skipped");
    // The mute is in force now: one mention is enough.
    const { messageId } = await alice.client.send(group, `ping @${names.b}`);
    const mentioned = await until(() => decisionOf(b1.userId, `message:${messageId}:${b1.userId}`), "the mention's push", {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    assert.equal(mentioned, "sent", "a mention gets through the mute");

    const quiet = await settings({ muteMentions: true }, ["mute_mentions"]);
    assert.equal(quiet.status, 200, JSON.stringify(quiet.body));
    assert.equal(quiet.body.settings.muteMentions, true);
    await sendUntilDecided(`again @${names.b}`, "skipped: conversation muted", "a mention to stay quiet once mute_mentions is on");
  } finally {
    await alice.client.close();
  }
}
