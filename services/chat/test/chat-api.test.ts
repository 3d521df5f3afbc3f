import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { CommandSchema, StreamRequestSchema, type StreamRequest } from "@parley/contracts/parley/chat/v1/chat";
import { AsyncQueue } from "@parley/runtime";
import { startChatHarness, type ChatHarness } from "./harness.js";
import { rejectsWithCode } from "@parley/testkit";

describe("chat service", () => {
  let h: ChatHarness;
  let alice: bigint;
  let bob: bigint;
  let carol: bigint;
  let conversationId: bigint;
  before(async () => {
    h = await startChatHarness();
    [alice, bob, carol] = [await h.user("alice"), await h.user("bob"), await h.user("carol")];
    conversationId = (await h.api.openDirect({ peerUserId: bob }, h.as(alice))).conversation!.conversationId;
  });
  after(() => h?.close());

  describe("direct conversations", () => {
    it("opens one conversation per pair, whoever opens it", async () => {
      const fromBob = await h.api.openDirect({ peerUserId: alice }, h.as(bob));
      assert.equal(fromBob.conversation!.conversationId, conversationId);
      assert.deepEqual(fromBob.conversation!.members.map((m) => m.userId).sort(), [alice, bob].sort());
    });
    it("refuses oneself, a missing peer and an unknown user", async () => {
      await rejectsWithCode(h.api.openDirect({ peerUserId: alice }, h.as(alice)), Code.InvalidArgument, /another user/);
      await rejectsWithCode(h.api.openDirect({}, h.as(alice)), Code.InvalidArgument, /required/);
      await rejectsWithCode(h.api.openDirect({ peerUserId: 999_999n }, h.as(alice)), Code.NotFound);
    });
    it("refuses calls without the acting user's header", async () => {
      await rejectsWithCode(h.api.openDirect({ peerUserId: bob }), Code.Unauthenticated);
    });
  });

  describe("send", () => {
    it("acks with the message id, the sender's seq and the conversation", async () => {
      const ack = await h.api.send({ conversationId, clientMsgId: "m-1", text: "hello bob" }, h.as(alice));
      assert.equal(ack.conversationId, conversationId);
      assert.ok(ack.messageId > 0n);
      assert.equal(ack.seq, 1n);
      assert.equal(ack.duplicate, false);
    });
    it("returns the original ack for a retry with the same client_msg_id and stores nothing new", async () => {
      const first = await h.api.send({ conversationId, clientMsgId: "m-retry", text: "once" }, h.as(alice));
      const again = await h.api.send({ conversationId, clientMsgId: "m-retry", text: "once" }, h.as(alice));
      assert.deepEqual([again.messageId, again.seq, again.duplicate], [first.messageId, first.seq, true]);
      const history = await h.api.history({ conversationId }, h.as(bob));
      assert.equal(history.messages.filter((m) => m.clientMsgId === "m-retry").length, 1);
    });
    it("accepts 100,000 characters (code points) and refuses 100,001 naming the limit", async () => {
      const emoji = "😀".repeat(100_000);
      const ok = await h.api.send({ conversationId, clientMsgId: "big", text: emoji }, h.as(alice));
      const stored = (await h.api.history({ conversationId, limit: 1 }, h.as(bob))).messages[0]!;
      assert.equal(stored.messageId, ok.messageId);
      assert.equal(stored.text, emoji);
      await rejectsWithCode(
        h.api.send({ conversationId, clientMsgId: "too-big", text: "a".repeat(100_001) }, h.as(alice)),
        Code.InvalidArgument,
        /at most 100000 characters/,
      );
    });
    it("refuses empty text and a missing client_msg_id", async () => {
      await rejectsWithCode(h.api.send({ conversationId, clientMsgId: "e", text: "" }, h.as(alice)), Code.InvalidArgument, /text must not be empty/);
      await rejectsWithCode(h.api.send({ conversationId, text: "hi" }, h.as(alice)), Code.InvalidArgument, /client_msg_id/);
    });
    it("answers NOT_FOUND for an unknown conversation and PERMISSION_DENIED for someone else's", async () => {
      await rejectsWithCode(h.api.send({ conversationId: 123n, clientMsgId: "x", text: "hi" }, h.as(alice)), Code.NotFound);
      await rejectsWithCode(h.api.send({ conversationId, clientMsgId: "x", text: "hi" }, h.as(carol)), Code.PermissionDenied, /not a member/);
      await rejectsWithCode(h.api.history({ conversationId }, h.as(carol)), Code.PermissionDenied);
    });
  });

  describe("history, sync, cursors and receipts", () => {
    it("pages history backwards from a message id", async () => {
      for (let i = 0; i < 5; i++) await h.api.send({ conversationId, clientMsgId: `page-${i}`, text: `page ${i}` }, h.as(bob));
      const first = await h.api.history({ conversationId, limit: 2 }, h.as(alice));
      assert.deepEqual(
        first.messages.map((m) => m.text),
        ["page 4", "page 3"],
      );
      assert.equal(first.hasMore, true);
      const next = await h.api.history({ conversationId, limit: 2, beforeMessageId: first.messages[1]!.messageId }, h.as(alice));
      assert.deepEqual(
        next.messages.map((m) => m.text),
        ["page 2", "page 1"],
      );
      await rejectsWithCode(h.api.history({ conversationId, limit: 201 }, h.as(alice)), Code.InvalidArgument, /at most 200/);
    });
    it("syncs a user's inbox above a seq, gap-free and in order", async () => {
      const all = await h.api.sync({ afterSeq: 0n }, h.as(bob));
      assert.deepEqual(
        all.entries.map((e) => e.seq),
        all.entries.map((_, i) => BigInt(i + 1)),
      );
      assert.equal(all.headSeq, BigInt(all.entries.length));
      const tail = await h.api.sync({ afterSeq: 2n, limit: 2 }, h.as(bob));
      assert.deepEqual(
        tail.entries.map((e) => e.seq),
        [3n, 4n],
      );
      assert.equal(tail.hasMore, true);
    });
    it("stores each device's cursor, never moving it back, and refuses one above the head", async () => {
      await h.api.ackCursor({ seq: 3n }, h.as(bob, 7n));
      await h.api.ackCursor({ seq: 2n }, h.as(bob, 7n));
      const cursor = await h.api.getCursor({}, h.as(bob, 7n));
      assert.equal(cursor.seq, 3n);
      assert.equal((await h.api.getCursor({}, h.as(bob, 8n))).seq, 0n);
      await rejectsWithCode(h.api.ackCursor({ seq: cursor.headSeq + 1n }, h.as(bob, 7n)), Code.InvalidArgument, /inbox head/);
    });
    it("lists conversations with the last message and unread count, and clears it on MarkRead", async () => {
      const list = await h.api.listConversations({}, h.as(alice));
      const summary = list.conversations.find((c) => c.conversation!.conversationId === conversationId)!;
      assert.equal(summary.lastMessage?.text, "page 4");
      assert.equal(summary.unreadCount, 5);
      const read = await h.api.markRead({ conversationId, messageId: summary.lastMessage!.messageId }, h.as(alice));
      assert.equal(read.unreadCount, 0);
      const bobInbox = await h.api.sync({ afterSeq: 0n, limit: 1000 }, h.as(bob));
      const receipt = bobInbox.entries.at(-1)!;
      assert.equal(receipt.item.case, "read", "the other party gets a read receipt in their inbox");
    });
  });

  describe("edits and deletions over the unary RPCs", () => {
    it("edits, deletes for oneself and for everyone, each answered after its entries are stored", async () => {
      const sent = await h.api.send({ conversationId, clientMsgId: "to-edit", text: "draft" }, h.as(bob));
      const head = (await h.api.sync({ afterSeq: 0n, limit: 1000 }, h.as(alice))).headSeq;
      const edited = await h.api.editMessage({ conversationId, messageId: sent.messageId, text: "final" }, h.as(bob));
      assert.deepEqual([edited.message?.text, edited.unchanged, edited.message?.editedAt !== undefined], ["final", false, true]);
      const [entry] = (await h.api.sync({ afterSeq: head }, h.as(alice))).entries;
      assert.equal(entry?.item.case, "edited", "the other member's inbox has the edit at its next seq");
      assert.equal(entry.seq, head + 1n);
      const hidden = await h.api.deleteMessage({ conversationId, messageId: sent.messageId, forEveryone: false }, h.as(alice));
      assert.equal(hidden.unchanged, false);
      await rejectsWithCode(
        h.api.deleteMessage({ conversationId, messageId: sent.messageId, forEveryone: true }, h.as(alice)),
        Code.PermissionDenied,
        /own messages/,
      );
      const deleted = await h.api.deleteMessage({ conversationId, messageId: sent.messageId, forEveryone: true }, h.as(bob));
      assert.equal(deleted.unchanged, false);
      await rejectsWithCode(
        h.api.editMessage({ conversationId, messageId: sent.messageId, text: "again" }, h.as(bob)),
        Code.InvalidArgument,
        /deleted message/,
      );
      await rejectsWithCode(h.api.editMessage({ conversationId, messageId: sent.messageId, text: "x" }, h.as(carol)), Code.PermissionDenied, /not a member/);
      await rejectsWithCode(h.api.editMessage({ conversationId, messageId: sent.messageId, text: "x" }), Code.Unauthenticated);
    });
  });

  describe("reactions and replies over the unary RPCs", () => {
    it("reacts with counts per reader, answered after every member's entry is stored; refuses a non-emoji and a non-member", async () => {
      const sent = await h.api.send({ conversationId, clientMsgId: "to-react", text: "react to me" }, h.as(bob));
      const head = (await h.api.sync({ afterSeq: 0n, limit: 1000 }, h.as(bob))).headSeq;
      const reacted = await h.api.react({ conversationId, messageId: sent.messageId, emoji: "🎉" }, h.as(alice));
      assert.deepEqual(
        reacted.reactions.map((r) => [r.emoji, r.count, r.mine]),
        [["🎉", 1, true]],
      );
      const [entry] = (await h.api.sync({ afterSeq: head }, h.as(bob))).entries;
      assert.equal(entry?.item.case, "reacted");
      assert.deepEqual(entry.item.case === "reacted" && entry.item.value.reactions.map((r) => [r.emoji, r.count, r.mine]), [["🎉", 1, false]]);
      const history = await h.api.history({ conversationId }, h.as(bob));
      assert.deepEqual(
        history.messages.find((m) => m.messageId === sent.messageId)?.reactions.map((r) => r.emoji),
        ["🎉"],
      );
      await rejectsWithCode(h.api.react({ conversationId, messageId: sent.messageId, emoji: "yes" }, h.as(alice)), Code.InvalidArgument, /exactly one emoji/);
      await rejectsWithCode(h.api.react({ conversationId, messageId: sent.messageId, emoji: "🎉" }, h.as(carol)), Code.PermissionDenied, /not a member/);
    });

    it("sends a reply with its quote in history and refuses a reply to an unknown message", async () => {
      const quoted = await h.api.send({ conversationId, clientMsgId: "to-quote", text: "quote me" }, h.as(alice));
      const reply = await h.api.send({ conversationId, clientMsgId: "a-reply", text: "quoted", replyToMessageId: quoted.messageId }, h.as(bob));
      const shown = (await h.api.history({ conversationId }, h.as(alice))).messages.find((m) => m.messageId === reply.messageId);
      assert.deepEqual([shown?.replyTo?.messageId, shown?.replyTo?.senderId, shown?.replyTo?.textPreview], [quoted.messageId, alice, "quote me"]);
      await rejectsWithCode(
        h.api.send({ conversationId, clientMsgId: "bad-reply", text: "x", replyToMessageId: quoted.messageId + 1_000_000n }, h.as(bob)),
        Code.NotFound,
        /to reply to/,
      );
    });
  });

  describe("the gateway stream", () => {
    it("runs many devices' commands in one stream and matches replies by correlation id", async () => {
      const requests = new AsyncQueue<StreamRequest>();
      const replies = h.api.stream(requests);
      requests.push(create(StreamRequestSchema, { hello: { gatewayId: "test-gw" } }));
      requests.push(
        create(StreamRequestSchema, {
          commands: [
            create(CommandSchema, {
              correlationId: 1n,
              userId: alice,
              deviceId: 1n,
              op: { case: "send", value: { conversationId, clientMsgId: "s-1", text: "via stream" } },
            }),
            create(CommandSchema, {
              correlationId: 2n,
              userId: carol,
              deviceId: 1n,
              op: { case: "send", value: { conversationId, clientMsgId: "s-2", text: "intruder" } },
            }),
            create(CommandSchema, { correlationId: 3n, userId: bob, deviceId: 1n, op: { case: "sync", value: { afterSeq: 0n, limit: 1 } } }),
          ],
        }),
      );
      const seen = new Map<bigint, string>();
      for await (const response of replies) {
        for (const reply of response.replies)
          seen.set(reply.correlationId, reply.result.case === "error" ? `error:${reply.result.value.code}` : reply.result.case!);
        if (seen.size === 3) break;
      }
      requests.close();
      assert.deepEqual(Object.fromEntries(seen), { "1": "send", "2": `error:${Code.PermissionDenied}`, "3": "sync" });
    });
  });
});
