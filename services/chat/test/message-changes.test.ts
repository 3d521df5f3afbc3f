import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { MessageChanges } from "../src/domain/message-changes.js";
import { mapChatError } from "../src/errors.js";
import {
  MessageChangeRefused,
  type DeliveryBus,
  type DeliveryEvent,
  type MessageChangeOutcome,
  type MessageChangeRefusal,
  type MessageDeletion,
  type MessageEdit,
  type MessageStore,
} from "../src/ports.js";

const NOW = new Date("2026-11-30T12:00:00Z");
const actor = { userId: 7n, deviceId: 71n };
const message = { messageId: 20n, conversationId: 10n, senderId: 7n, senderDeviceId: 71n, clientMsgId: "c", text: "new", createdAt: NOW };

/** The domain over a store that records what it is asked and answers `answer`. */
function changes(options: { editWindowSeconds?: number; deleteWindowSeconds?: number; answer?: MessageChangeOutcome | MessageChangeRefusal }) {
  const asked: (MessageEdit | MessageDeletion)[] = [];
  const published: [bigint, DeliveryEvent][] = [];
  const answer = async (request: MessageEdit | MessageDeletion) => {
    asked.push(request);
    if (typeof options.answer === "string") throw new MessageChangeRefused(options.answer);
    return options.answer ?? { message, changed: false, actorSeq: 0n, entries: [] };
  };
  const store = { editMessage: answer, deleteMessage: answer } as unknown as MessageStore;
  const bus = { publish: (key: bigint, event: DeliveryEvent) => published.push([key, event]) } as unknown as DeliveryBus;
  const erased: [bigint, readonly bigint[]][] = [];
  const domain = new MessageChanges({
    store,
    bus,
    now: () => NOW,
    editWindowSeconds: options.editWindowSeconds ?? 900,
    deleteWindowSeconds: options.deleteWindowSeconds ?? 0,
    pushEraser: { messageDeleted: (messageId, recipientIds) => erased.push([messageId, recipientIds]), close: async () => {} },
  });
  return { domain, asked, published, erased };
}

const codeOf = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  const mapped = mapChatError(err);
  assert.ok(mapped, `unmapped: ${String(err)}`);
  return [Code[mapped.code], mapped.rawMessage];
};

describe("message changes (domain)", () => {
  it("asks the store with the edit window's start, and none when the window is 0", async () => {
    const windowed = changes({ editWindowSeconds: 900 });
    await windowed.domain.edit(actor, 10n, 20n, "new");
    assert.deepEqual(windowed.asked[0], {
      conversationId: 10n,
      messageId: 20n,
      userId: 7n,
      text: "new",
      at: NOW,
      createdNotBefore: new Date(NOW.getTime() - 900_000),
    });
    const unlimited = changes({ editWindowSeconds: 0 });
    await unlimited.domain.edit(actor, 10n, 20n, "new");
    assert.equal("createdNotBefore" in unlimited.asked[0]!, false);
  });

  it("gives a deletion for everyone the delete window and a deletion for oneself none", async () => {
    const { domain, asked } = changes({ deleteWindowSeconds: 60 });
    await domain.delete(actor, 10n, 20n, true);
    await domain.delete(actor, 10n, 20n, false);
    assert.deepEqual(asked[0], {
      conversationId: 10n,
      messageId: 20n,
      userId: 7n,
      forEveryone: true,
      at: NOW,
      createdNotBefore: new Date(NOW.getTime() - 60_000),
    });
    assert.deepEqual(asked[1], { conversationId: 10n, messageId: 20n, userId: 7n, forEveryone: false, at: NOW });
  });

  it("publishes every entry the store wrote, to its user, after the store answered", async () => {
    const entries = [7n, 8n].map((userId) => ({ userId, seq: 3n, item: { kind: "edited" as const, message } }));
    const { domain, published } = changes({ answer: { message, changed: true, actorSeq: 3n, entries } });
    await domain.edit(actor, 10n, 20n, "new");
    assert.deepEqual(
      published.map(([key, event]) => [key, event.kind === "entry" && event.entry.seq]),
      [
        [7n, 3n],
        [8n, 3n],
      ],
    );
  });

  it("takes a message deleted for everyone out of notify for every member but its sender, once the store wrote it", async () => {
    const deletedMessage = { ...message, text: "" };
    const deletion = { conversationId: 10n, messageId: 20n, forEveryone: true, byUserId: 7n, at: NOW };
    const entries = [7n, 8n, 9n].map((userId) => ({ userId, seq: 3n, item: { kind: "deleted" as const, deletion } }));
    const deleted = changes({ answer: { message: deletedMessage, changed: true, actorSeq: 3n, entries } });
    await deleted.domain.delete(actor, 10n, 20n, true);
    assert.deepEqual(deleted.erased, [[20n, [8n, 9n]]]);

    // A deletion for oneself, a repeated deletion (nothing changed) and a refused one take nothing back.
    const forMe = changes({ answer: { message, changed: true, actorSeq: 3n, entries: entries.slice(0, 1) } });
    await forMe.domain.delete(actor, 10n, 20n, false);
    const repeated = changes({ answer: { message: deletedMessage, changed: false, actorSeq: 0n, entries: [] } });
    await repeated.domain.delete(actor, 10n, 20n, true);
    const refused = changes({ answer: "too_late" });
    await assert.rejects(refused.domain.delete(actor, 10n, 20n, true));
    assert.deepEqual([forMe.erased, repeated.erased, refused.erased], [[], [], []]);
  });

  it("checks the request before the store: ids required, the text's limits", async () => {
    const { domain, asked } = changes({});
    assert.deepEqual(await codeOf(domain.edit(actor, 0n, 20n, "x")), ["InvalidArgument", "conversation_id is required"]);
    assert.deepEqual(await codeOf(domain.delete(actor, 10n, 0n, true)), ["InvalidArgument", "message_id is required"]);
    assert.deepEqual(await codeOf(domain.edit(actor, 10n, 20n, "  ")), ["InvalidArgument", "text must not be only whitespace"]);
    assert.match((await codeOf(domain.edit(actor, 10n, 20n, "x".repeat(100_001))))[1]!, /at most 100000 characters/);
    assert.equal(asked.length, 0);
  });

  it("answers each refusal of the store with its code and a message for the client developer", async () => {
    const expected: Record<MessageChangeRefusal, [string, RegExp]> = {
      no_conversation: ["NotFound", /^no conversation with id 10$/],
      not_member: ["PermissionDenied", /not a member of this conversation/],
      no_message: ["NotFound", /^no message with id 20 in conversation 10$/],
      not_sender: ["PermissionDenied", /only your own messages/],
      deleted: ["InvalidArgument", /^message_id names a deleted message/],
      too_late: ["FailedPrecondition", /^the edit window \(900 seconds after sending\) of this message has passed$/],
      too_many_emoji: ["FailedPrecondition", /^message 20 has 20 different reactions already/],
      too_many_mine: ["FailedPrecondition", /^you have 3 reactions on message 20 already/],
    };
    for (const [reason, [code, text]] of Object.entries(expected)) {
      const [got, message] = await codeOf(changes({ answer: reason as MessageChangeRefusal }).domain.edit(actor, 10n, 20n, "new"));
      assert.equal(got, code, reason);
      assert.match(message!, text, reason);
    }
  });
});
