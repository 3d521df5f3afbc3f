import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { MessageChangeRefused, type InboxEntry, type MessageStore, type StoredMessage } from "../src/ports.js";
import { draft, EPOCH, newId, seqsOf, storeUnderTest, systemDraft, type OpenedMessageStore } from "./message-store-fixtures.js";

/** Rejects with MessageChangeRefused for `reason`. */
async function refused(change: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(change, (err) => err instanceof MessageChangeRefused && err.reason === reason);
}

const itemOf = (entry: InboxEntry | undefined) => {
  assert.ok(entry !== undefined, "an entry");
  return entry.item;
};

/**
 * The message store contract for edits and deletions (every adapter runs it):
 * the change and its entries all or nothing, each recipient's next seq, the
 * text erased from the stored row on a deletion for everyone, deletions for
 * one user seen only by them, repeats that write nothing, and every refusal
 * with nothing written.
 */
export function describeMessageStoreChangesContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store edits and deletions (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    /** A direct conversation with one message from a (entries at seq 1 for both). */
    async function withMessage(fields: Partial<StoredMessage> = {}) {
      const { a, b, id } = await subject.direct();
      const { message } = await store.append(draft(id, a, fields));
      return { a, b, id, message };
    }
    const at = (ms: number) => new Date(EPOCH + 10_000_000 + ms);
    const edit = (id: bigint, messageId: bigint, userId: bigint, text: string, extra: { createdNotBefore?: Date } = {}) =>
      store.editMessage({ conversationId: id, messageId, userId, text, at: at(1), ...extra });
    const remove = (id: bigint, messageId: bigint, userId: bigint, forEveryone: boolean, extra: { createdNotBefore?: Date } = {}) =>
      store.deleteMessage({ conversationId: id, messageId, userId, forEveryone, at: at(2), ...extra });

    describe("editMessage", () => {
      it("replaces the text, sets editedAt and gives every member an edited entry at their next seq", async () => {
        const { a, b, id, message } = await withMessage();
        await store.append(draft(id, b));
        const outcome = await edit(id, message.messageId, a, "fixed typo");
        const edited = { ...message, text: "fixed typo", editedAt: at(1) };
        assert.deepEqual(outcome, {
          message: edited,
          changed: true,
          actorSeq: 3n,
          entries: [
            { userId: a, seq: 3n, item: { kind: "edited", message: edited } },
            { userId: b, seq: 3n, item: { kind: "edited", message: edited } },
          ],
        });
        assert.deepEqual((await store.history(id, undefined, 10))[1], edited, "history shows the new text and the edited mark");
        assert.equal(await subject.storedText(id, message.messageId), "fixed typo");
        // Sync reads every entry with the message as it stands now, the original entry too.
        const inbox = await store.inbox(b, 0n, 10);
        assert.deepEqual(seqsOf(inbox), [1n, 2n, 3n]);
        assert.deepEqual(itemOf(inbox[0]), { kind: "message", message: edited });
        assert.deepEqual(itemOf(inbox[2]), { kind: "edited", message: edited });
        assert.equal(await store.headSeq(a), 3n);
      });

      it("gives each edit of a message its own entry, and the same text again changes nothing", async () => {
        const { a, b, id, message } = await withMessage();
        await edit(id, message.messageId, a, "second");
        const again = await store.editMessage({ conversationId: id, messageId: message.messageId, userId: a, text: "third", at: at(5) });
        assert.deepEqual(seqsOf(again.entries), [3n, 3n]);
        const repeat = await store.editMessage({ conversationId: id, messageId: message.messageId, userId: a, text: "third", at: at(9) });
        assert.deepEqual(repeat, { message: { ...message, text: "third", editedAt: at(5) }, changed: false, actorSeq: 0n, entries: [] });
        assert.equal(await store.headSeq(b), 3n);
        // A send after the edits takes the next seq: no gap, no reuse.
        assert.deepEqual(seqsOf((await store.append(draft(id, b))).entries), [4n, 4n]);
      });

      it("refuses, writing nothing, another member's message, an outsider, unknown ids, another conversation's message and a late edit", async () => {
        const { a, b, id, message } = await withMessage();
        const other = await withMessage();
        await refused(edit(id, message.messageId, b, "not mine"), "not_sender");
        await refused(edit(id, message.messageId, newId(), "outsider"), "not_member");
        await refused(edit(id, newId(), a, "unknown"), "no_message");
        await refused(edit(id, other.message.messageId, a, "elsewhere"), "no_message");
        await refused(edit(newId(), message.messageId, a, "no conversation"), "no_conversation");
        const late = { createdNotBefore: new Date(message.createdAt.getTime() + 1) };
        await refused(edit(id, message.messageId, a, "too late", late), "too_late");
        // Exactly at the window's start is still inside it.
        assert.equal((await edit(id, message.messageId, a, "just in time", { createdNotBefore: message.createdAt })).changed, true);
        assert.deepEqual([await store.headSeq(a), await store.headSeq(b)], [2n, 2n]);
      });

      it("refuses a system message (sender 0) as not the user's, to edit or delete for everyone", async () => {
        const a = newId();
        const groupId = newId();
        const { outcome } = await store.createGroup({
          id: groupId,
          name: "g",
          settings: { historyVisibleToNewMembers: false },
          members: [{ userId: a, role: "owner" }],
          systemMessage: systemDraft(groupId),
        });
        await refused(edit(groupId, outcome.message.messageId, a, "rewritten"), "not_sender");
        await refused(remove(groupId, outcome.message.messageId, a, true), "not_sender");
        assert.equal(await store.headSeq(a), 1n);
      });
    });

    describe("deleteMessage for everyone", () => {
      it("erases the text from the stored row, leaves a tombstone in history and gives every member a deleted entry", async () => {
        const { a, b, id, message } = await withMessage({ text: "a secret" });
        await edit(id, message.messageId, a, "a worse secret");
        const outcome = await remove(id, message.messageId, a, true);
        const tombstone = { ...message, text: "", deletedAt: at(2) };
        const deletion = { conversationId: id, messageId: message.messageId, forEveryone: true, byUserId: a, at: at(2) };
        assert.deepEqual(outcome, {
          message: tombstone,
          changed: true,
          actorSeq: 3n,
          entries: [
            { userId: a, seq: 3n, item: { kind: "deleted", deletion } },
            { userId: b, seq: 3n, item: { kind: "deleted", deletion } },
          ],
        });
        assert.equal(await subject.storedText(id, message.messageId), "", "the text is erased in the database row, not hidden");
        assert.deepEqual(await store.history(id, undefined, 10), [tombstone]);
        assert.deepEqual(await store.history(id, undefined, 10, 0n, b), [tombstone]);
        const inbox = await store.inbox(b, 0n, 10);
        assert.deepEqual(
          inbox.map((entry) => entry.item),
          [
            { kind: "message", message: tombstone },
            { kind: "edited", message: tombstone },
            { kind: "deleted", deletion },
          ],
          "no entry read later shows any text",
        );
        assert.equal(await store.unreadCount(id, b), 0, "a deleted message is not unread");
      });

      it("answers a repeat with changed=false and writes nothing; an edit of a deleted message is refused", async () => {
        const { a, b, id, message } = await withMessage();
        await remove(id, message.messageId, a, true);
        const repeat = await remove(id, message.messageId, a, true);
        assert.deepEqual([repeat.changed, repeat.actorSeq, repeat.entries], [false, 0n, []]);
        assert.equal(repeat.message.text, "");
        await refused(edit(id, message.messageId, a, "revive"), "deleted");
        assert.deepEqual([await store.headSeq(a), await store.headSeq(b)], [2n, 2n]);
      });

      it("refuses another member's message and a late deletion, writing nothing", async () => {
        const { a, b, id, message } = await withMessage();
        await refused(remove(id, message.messageId, b, true), "not_sender");
        await refused(remove(id, message.messageId, newId(), true), "not_member");
        await refused(remove(id, newId(), a, true), "no_message");
        await refused(remove(id, message.messageId, a, true, { createdNotBefore: new Date(message.createdAt.getTime() + 1) }), "too_late");
        assert.equal(await subject.storedText(id, message.messageId), message.text);
        assert.deepEqual([await store.headSeq(a), await store.headSeq(b)], [1n, 1n]);
      });
    });

    describe("deleteMessage for the user only", () => {
      it("takes any message out of that user's history, with an entry in their inbox only; others keep it", async () => {
        const { a, b, id, message } = await withMessage();
        const kept = await store.append(draft(id, a));
        const outcome = await remove(id, message.messageId, b, false);
        const deletion = { conversationId: id, messageId: message.messageId, forEveryone: false, byUserId: b, at: at(2) };
        assert.deepEqual(outcome.entries, [{ userId: b, seq: 3n, item: { kind: "deleted", deletion } }]);
        assert.deepEqual([outcome.changed, outcome.actorSeq], [true, 3n]);
        assert.deepEqual(
          (await store.history(id, undefined, 10, 0n, b)).map((m) => m.messageId),
          [kept.message.messageId],
        );
        assert.deepEqual(
          (await store.history(id, undefined, 10, 0n, a)).map((m) => m.text),
          [kept.message.text, message.text],
        );
        assert.equal(await subject.storedText(id, message.messageId), message.text, "the others' copy is untouched");
        // In b's own inbox the message reads as deleted; in a's it is as sent.
        const mine = await store.inbox(b, 0n, 10);
        assert.deepEqual(
          mine.map((entry) => entry.item.kind),
          ["message", "message", "deleted"],
        );
        const first = itemOf(mine[0]);
        assert.ok(first.kind === "message" && first.message.text === "" && first.message.deletedAt !== undefined);
        assert.deepEqual(itemOf((await store.inbox(a, 0n, 1))[0]), { kind: "message", message });
        assert.deepEqual([await store.headSeq(a), await store.headSeq(b)], [2n, 3n]);
        // The conversation list shows b the newest message he has not deleted for himself.
        const hide = await remove(id, kept.message.messageId, b, false);
        assert.equal(hide.changed, true);
        const [forB] = await store.listConversations(b, 10);
        const [forA] = await store.listConversations(a, 10);
        assert.equal(forB?.lastMessage, undefined, "b deleted both messages for himself");
        assert.equal(forA?.lastMessage?.messageId, kept.message.messageId);
      });

      it("answers a repeat with changed=false; refuses outsiders and unknown messages", async () => {
        const { a, b, id, message } = await withMessage();
        await remove(id, message.messageId, a, false);
        const repeat = await remove(id, message.messageId, a, false);
        assert.deepEqual([repeat.changed, repeat.entries], [false, []]);
        await refused(remove(id, message.messageId, newId(), false), "not_member");
        await refused(remove(id, newId(), b, false), "no_message");
        await refused(remove(newId(), message.messageId, b, false), "no_conversation");
        assert.deepEqual([await store.headSeq(a), await store.headSeq(b)], [2n, 1n]);
      });
    });

    it("keeps every user's seqs gap-free when sends, edits and deletions interleave", async () => {
      const { a, b, id } = await subject.direct();
      const sent = await Promise.all(Array.from({ length: 6 }, (_, i) => store.append(draft(id, i % 2 === 0 ? a : b))));
      await Promise.all([
        ...sent.map((s, i) =>
          i % 3 === 0
            ? store.editMessage({ conversationId: id, messageId: s.message.messageId, userId: s.message.senderId, text: `edit ${i}`, at: at(i) })
            : i % 3 === 1
              ? store.deleteMessage({ conversationId: id, messageId: s.message.messageId, userId: s.message.senderId, forEveryone: true, at: at(i) })
              : store.deleteMessage({ conversationId: id, messageId: s.message.messageId, userId: a, forEveryone: false, at: at(i) }),
        ),
        store.append(draft(id, a)),
        store.append(draft(id, b)),
      ]);
      for (const user of [a, b]) {
        const head = await store.headSeq(user);
        assert.deepEqual(
          seqsOf(await store.inbox(user, 0n, 100)),
          Array.from({ length: Number(head) }, (_, i) => BigInt(i + 1)),
        );
      }
      assert.equal(await store.headSeq(a), 8n + 4n + 2n, "a: 8 messages, 4 changes for everyone, 2 deletions for a alone");
      assert.equal(await store.headSeq(b), 8n + 4n);
    });
  });
}
