import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ConversationMissingError, NotAMemberError } from "../src/ports.js";
import type { ConversationRecord, GroupChange, MessageStore, StoredMessage } from "../src/ports.js";
import { draft, messageOf, newId, range, seqsOf, systemDraft, TooManyMembers, storeUnderTest, type OpenedMessageStore } from "./message-store-fixtures.js";

/** The message store contract for groups (membership changes, the cap, receipts); run beside the main contract. */
export function describeMessageStoreGroupContract(name: string, open: () => Promise<OpenedMessageStore>): void {
  describe(`message store groups (${name})`, () => {
    const subject = storeUnderTest(open);
    let store: MessageStore;
    before(() => {
      store = subject.store;
    });

    const direct = () => subject.direct();
    const send = (conversationId: bigint, senderId: bigint, recipients?: bigint[], fields: Partial<StoredMessage> = {}) =>
      store.append(draft(conversationId, senderId, fields), recipients);

    describe("groups", () => {
      /** A new group of `size` new users, the first its owner. */
      const group = async (size: number, historyVisibleToNewMembers = false) => {
        const users = Array.from({ length: size }, () => newId());
        const id = newId();
        const created = await store.createGroup({
          id,
          name: `group ${id}`,
          settings: { historyVisibleToNewMembers },
          members: users.map((userId, i) => ({ userId, role: i === 0 ? "owner" : "member" })),
          systemMessage: systemDraft(id),
        });
        return { id, users, ...created };
      };
      const change = (id: bigint, fields: Omit<GroupChange, "systemMessage"> = {}): GroupChange => ({ ...fields, systemMessage: systemDraft(id) });
      const userIdsOf = (conversation: ConversationRecord | undefined) => conversation?.members.map((m) => m.userId);

      it("createGroup writes the system message to every member's inbox with their next seq", async () => {
        const { a, b, id: directId } = await direct();
        await send(directId, a, [a, b]);
        const c = newId();
        const id = newId();
        const systemMessage = systemDraft(id);
        const { conversation, outcome } = await store.createGroup({
          id,
          name: "team",
          settings: { historyVisibleToNewMembers: true },
          members: [
            { userId: c, role: "member" },
            { userId: a, role: "owner" },
          ],
          systemMessage,
        });
        assert.deepEqual(
          [conversation.id, conversation.kind, conversation.name, conversation.settings, conversation.deleted],
          [id, "group", "team", { historyVisibleToNewMembers: true }, false],
        );
        assert.deepEqual(
          conversation.members.map((m) => [m.userId, m.role, m.readMessageId, m.historyFromMessageId]),
          [
            [a, "owner", 0n, 0n],
            [c, "member", 0n, 0n],
          ],
        );
        assert.deepEqual(await store.getConversation(id), conversation);
        assert.deepEqual(outcome.message, systemMessage);
        assert.equal(outcome.senderSeq, 0n);
        assert.deepEqual(
          outcome.entries.map((e) => [e.userId, e.seq]),
          [
            [a, 2n],
            [c, 1n],
          ],
        );
        assert.deepEqual(messageOf((await store.inbox(a, 1n, 10))[0]), systemMessage);
        assert.deepEqual(messageOf((await store.inbox(c, 0n, 10))[0]), systemMessage);
        assert.equal(await store.headSeq(b), 1n);
      });

      it("updateGroup adds members with history_from_message_id per the setting", async () => {
        const { id, users } = await group(2);
        const [hidden, visible] = [newId(), newId()];
        const first = change(id, { add: [{ userId: hidden, role: "member" }] });
        let seen: ConversationRecord | undefined;
        const added = await store.updateGroup(id, (current) => {
          seen = current;
          return first;
        });
        assert.deepEqual(userIdsOf(seen), users);
        const second = change(id, { add: [{ userId: visible, role: "admin" }], settings: { historyVisibleToNewMembers: true }, name: "renamed" });
        const { conversation } = await store.updateGroup(id, () => second);
        assert.deepEqual(added.conversation.settings, { historyVisibleToNewMembers: false });
        assert.deepEqual(conversation.settings, { historyVisibleToNewMembers: true });
        assert.equal(conversation.name, "renamed");
        assert.deepEqual(
          conversation.members.map((m) => [m.userId, m.role, m.historyFromMessageId]),
          [
            [users[0], "owner", 0n],
            [users[1], "member", 0n],
            [hidden, "member", first.systemMessage.messageId],
            [visible, "admin", 0n],
          ],
        );
        // Each added member sees their own addition; earlier members see both changes.
        assert.deepEqual((await store.inbox(hidden, 0n, 10)).map(messageOf), [first.systemMessage, second.systemMessage]);
        assert.deepEqual((await store.inbox(visible, 0n, 10)).map(messageOf), [second.systemMessage]);
        assert.equal(await store.headSeq(users[1]!), 3n);
      });

      it("updateGroup changes roles and refuses an unknown conversation before calling decide", async () => {
        const { id, users } = await group(2);
        const { conversation } = await store.updateGroup(id, () => change(id, { roles: [{ userId: users[1]!, role: "admin" }] }));
        assert.deepEqual(
          conversation.members.map((m) => m.role),
          ["owner", "admin"],
        );
        let called = false;
        await assert.rejects(
          store.updateGroup(newId(), () => {
            called = true;
            return change(id);
          }),
          ConversationMissingError,
        );
        assert.equal(called, false);
      });

      it("a decide() that throws leaves nothing changed and no seq consumed", async () => {
        const { id, users, conversation } = await group(3);
        const refusal = new TooManyMembers("no");
        await assert.rejects(
          store.updateGroup(id, () => {
            throw refusal;
          }),
          (err) => err === refusal,
        );
        assert.deepEqual(await store.getConversation(id), conversation);
        assert.equal((await store.history(id, undefined, 10)).length, 1);
        for (const user of users) assert.equal(await store.headSeq(user), 1n);
        const next = await store.updateGroup(id, () => change(id, { name: "next" }));
        assert.deepEqual(seqsOf(next.outcome.entries), [2n, 2n, 2n]);
      });

      it("keeps a cap of 100 members under 20 concurrent additions to a group of 95", async () => {
        const { id, users } = await group(95);
        const joiners = Array.from({ length: 20 }, () => newId());
        const results = await Promise.allSettled(
          joiners.map((userId) =>
            store.updateGroup(id, (current) => {
              if (current.members.length + 1 > 100) throw new TooManyMembers(`group ${id} is full`);
              return change(id, { add: [{ userId, role: "member" }] });
            }),
          ),
        );
        const rejected = results.filter((r) => r.status === "rejected");
        assert.equal(results.length - rejected.length, 5);
        assert.equal(rejected.length, 15);
        for (const r of rejected) assert.ok(r.reason instanceof TooManyMembers, String(r.reason));
        const members = (await store.getConversation(id))!.members;
        assert.equal(members.length, 100);
        assert.equal(await store.headSeq(users[0]!), 6n);
        assert.deepEqual(seqsOf(await store.inbox(users[94]!, 0n, 10)), range(1, 6));
      });

      it("writes a removal's system message to the removed member, and later sends to members pass them by", async () => {
        const { id, users } = await group(3);
        const [a, b, c] = users as [bigint, bigint, bigint];
        const removal = change(id, { remove: [c] });
        const { conversation, outcome } = await store.updateGroup(id, () => removal);
        assert.deepEqual(userIdsOf(conversation), [a, b]);
        assert.deepEqual(
          outcome.entries.map((e) => [e.userId, e.seq]),
          [
            [a, 2n],
            [b, 2n],
            [c, 2n],
          ],
        );
        assert.deepEqual(messageOf((await store.inbox(c, 1n, 10))[0]), removal.systemMessage);
        const later = await store.append(draft(id, a));
        assert.deepEqual(
          later.entries.map((e) => e.userId),
          [a, b],
        );
        assert.equal(later.senderSeq, 3n);
        assert.equal(await store.headSeq(c), 2n);
        await assert.rejects(store.append(draft(id, c)), NotAMemberError);
      });

      it("append without recipients from a non-member throws NotAMemberError and writes nothing", async () => {
        const { id, users } = await group(2);
        const stranger = newId();
        const message = draft(id, stranger);
        await assert.rejects(store.append(message), NotAMemberError);
        assert.equal((await store.history(id, undefined, 10)).length, 1);
        assert.equal(await store.headSeq(stranger), 0n);
        for (const user of users) assert.equal(await store.headSeq(user), 1n);
        // The refused send left no de-duplication claim: once a member, the same send is stored.
        await store.updateGroup(id, () => change(id, { add: [{ userId: stranger, role: "member" }] }));
        const retried = await store.append(message);
        assert.equal(retried.duplicate, false);
        assert.deepEqual(seqsOf(retried.entries), [3n, 3n, 2n]);
      });

      it("a member added after a message does not get that message in their inbox", async () => {
        const { id, users } = await group(2, true);
        const before = await store.append(draft(id, users[0]!));
        const late = newId();
        const addition = change(id, { add: [{ userId: late, role: "member" }] });
        await store.updateGroup(id, () => addition);
        assert.deepEqual((await store.inbox(late, 0n, 10)).map(messageOf), [addition.systemMessage]);
        // History stays readable for them (visible setting), it is only the inbox that starts at the join.
        assert.ok((await store.history(id, undefined, 10)).some((m) => m.messageId === before.message.messageId));
        const after = await store.append(draft(id, users[1]!));
        assert.ok(after.entries.some((e) => e.userId === late));
      });

      it("reports per member whether a message was delivered to a device and read", async () => {
        const { id, users } = await group(3);
        const [a, b, c] = users as [bigint, bigint, bigint];
        const sent = await store.append(draft(id, a));
        const seqOf = (user: bigint) => sent.entries.find((e) => e.userId === user)!.seq;
        const m = sent.message.messageId;
        assert.deepEqual(await store.receipts(id, m), [
          { userId: a, delivered: false, read: false },
          { userId: b, delivered: false, read: false },
          { userId: c, delivered: false, read: false },
        ]);
        const [phone, laptop] = [newId(), newId()];
        await store.setCursor(b, phone, seqOf(b) - 1n);
        await store.setCursor(b, laptop, seqOf(b));
        await store.setCursor(c, phone, seqOf(c) - 1n);
        const later = await store.append(draft(id, a));
        await store.markRead(id, c, later.message.messageId, new Date(), users);
        assert.deepEqual(await store.receipts(id, m), [
          { userId: a, delivered: false, read: false },
          { userId: b, delivered: true, read: false },
          { userId: c, delivered: false, read: true },
        ]);
        assert.deepEqual(await store.receipts(newId(), m), []);
      });

      it("listConversations mixes direct and group conversations by activity and hides deleted groups", async () => {
        const user = newId();
        const peer = newId();
        const d = await store.openDirect(user, peer, newId());
        const createGroupWith = async () => {
          const id = newId();
          const members = [
            { userId: user, role: "member" as const },
            { userId: newId(), role: "owner" as const },
          ];
          return (await store.createGroup({ id, name: "g", settings: { historyVisibleToNewMembers: false }, members, systemMessage: systemDraft(id) }))
            .conversation;
        };
        const g1 = await createGroupWith();
        const g2 = await createGroupWith();
        await store.append(draft(d.id, peer));
        const list = await store.listConversations(user, 10);
        assert.deepEqual(
          list.map((s) => [s.conversation.id, s.conversation.kind]),
          [
            [d.id, "direct"],
            [g2.id, "group"],
            [g1.id, "group"],
          ],
        );
        assert.equal(list[0]!.conversation.settings, undefined);
        assert.deepEqual(list[1]!.conversation, g2);
        const deletion = change(g2.id, { delete: true });
        const { conversation, outcome } = await store.updateGroup(g2.id, () => deletion);
        assert.deepEqual([conversation.deleted, conversation.members], [true, []]);
        assert.ok(outcome.entries.some((e) => e.userId === user));
        assert.deepEqual(
          (await store.listConversations(user, 10)).map((s) => s.conversation.id),
          [d.id, g1.id],
        );
        assert.equal((await store.getConversation(g2.id))?.deleted, true);
      });

      it("totalUnread sums the unread messages of every conversation, leaving out the user's own and system messages", async () => {
        const { id: directId, a: user, b: peer } = await direct();
        await send(directId, peer, [user, peer]);
        await send(directId, peer, [user, peer]);
        await send(directId, user, [user, peer]);
        const { id: groupId, users } = await group(2);
        const [owner, member] = users as [bigint, bigint];
        await store.updateGroup(groupId, () => change(groupId, { add: [{ userId: user, role: "member" }] }));
        await send(groupId, owner);
        await send(groupId, member);
        await send(groupId, user);
        await store.updateGroup(groupId, () => change(groupId, { name: "renamed" }));
        assert.equal(await store.totalUnread(user, 100), 4);
        assert.equal(await store.totalUnread(peer, 100), 1);
        assert.equal(await store.totalUnread(owner, 100), 2);
        assert.equal(await store.totalUnread(user, 3), 3, "counted up to the cap");
        assert.equal(await store.totalUnread(newId(), 100), 0);
      });

      it("counts nothing from before a member's history horizon as unread", async () => {
        const { id, users } = await group(2, false);
        await send(id, users[0]!);
        await send(id, users[0]!);
        const late = newId();
        await store.updateGroup(id, () => change(id, { add: [{ userId: late, role: "member" }] }));
        assert.equal(await store.unreadCount(id, late), 0);
        await send(id, users[1]!);
        assert.equal(await store.unreadCount(id, late), 1);
        assert.equal(await store.totalUnread(late, 100), 1);
        assert.equal((await store.listConversations(late, 10))[0]!.unreadCount, 1);
      });

      it("totalUnread drops as the user reads, and leaves out groups deleted or left", async () => {
        const { id: directId, a: user, b: peer } = await direct();
        await send(directId, peer, [user, peer]);
        const read = await send(directId, peer, [user, peer]);
        const unreadAfterMarker = await send(directId, peer, [user, peer]);
        const kept = await group(2);
        const left = await group(2);
        const deleted = await group(2);
        for (const g of [kept, left, deleted]) {
          await store.updateGroup(g.id, () => change(g.id, { add: [{ userId: user, role: "member" }] }));
          await send(g.id, g.users[0]!);
        }
        assert.equal(await store.totalUnread(user, 100), 6);
        await store.markRead(directId, user, read.message.messageId, new Date(), [user, peer]);
        assert.equal(await store.totalUnread(user, 100), 4);
        await store.markRead(directId, user, unreadAfterMarker.message.messageId, new Date(), [user, peer]);
        assert.equal(await store.totalUnread(user, 100), 3);
        await store.updateGroup(left.id, () => change(left.id, { remove: [user] }));
        await store.updateGroup(deleted.id, () => change(deleted.id, { delete: true }));
        assert.equal(await store.totalUnread(user, 100), 1);
        assert.equal(await store.unreadCount(kept.id, user), 1);
      });
    });
  });
}
