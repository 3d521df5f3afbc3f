import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_SETTINGS, type SettingsRecord } from "../src/domain/settings.js";
import { withAccountStore, type AccountStoreFixture } from "./account-store-contract.js";

const HOUR = 3_600_000;

/** The AccountStore contract for friendships, push tokens and settings (see the port's doc comments). */
export function describeAccountStoreSocialContract(name: string, open: () => Promise<AccountStoreFixture>): void {
  withAccountStore(`account store contract: friends, push tokens, settings (${name})`, open, (ctx) => {
    describe("friends", () => {
      it("sends a request, which the other accepts by adding back; lists both sides by username", async () => {
        const { store, newUser } = ctx();
        const [zed, amy] = [await store.createUser("zed", "Zed", "h"), await store.createUser("amy", "Amy", "h")];
        assert.equal(await store.friendState(zed.id, amy.id), "none");
        assert.equal(await store.addFriend(zed.id, amy.id), "request_sent");
        assert.equal(await store.addFriend(zed.id, amy.id), "request_sent", "asking again changes nothing");
        assert.deepEqual([await store.friendState(zed.id, amy.id), await store.friendState(amy.id, zed.id)], ["request_sent", "request_received"]);
        const bob = await store.createUser("bob", "Bob", "h");
        await store.addFriend(bob.id, zed.id);
        const pending = await store.listFriends(zed.id);
        assert.deepEqual(
          pending.map((f) => [f.user.username, f.state]),
          [
            ["amy", "request_sent"],
            ["bob", "request_received"],
          ],
        );
        assert.ok(pending.every((f) => f.since instanceof Date) && pending[0]!.user.id === amy.id);
        assert.equal(await store.addFriend(amy.id, zed.id), "friends");
        assert.equal(await store.addFriend(amy.id, zed.id), "friends");
        assert.deepEqual([await store.friendState(zed.id, amy.id), await store.friendState(amy.id, zed.id)], ["friends", "friends"]);
        const lonely = await newUser();
        assert.deepEqual(
          await store.friendIdsOf([zed.id, lonely.id, amy.id]),
          new Map([
            [zed.id, [amy.id]],
            [lonely.id, []],
            [amy.id, [zed.id]],
          ]),
          "every asked user is a key, with an empty list for none",
        );
        assert.deepEqual(await store.friendIdsOf([]), new Map());
        assert.deepEqual(
          (await store.listFriends(amy.id)).map((f) => [f.user.id, f.state]),
          [[zed.id, "friends"]],
        );
      });

      it("makes two users adding each other at the same moment friends, with no request left over", async () => {
        const { store, newUser } = ctx();
        const [a, b] = [await newUser(), await newUser()];
        const results = await Promise.all([store.addFriend(a.id, b.id), store.addFriend(b.id, a.id)]);
        assert.ok(results.includes("friends"), String(results));
        assert.deepEqual([await store.friendState(a.id, b.id), await store.friendState(b.id, a.id)], ["friends", "friends"]);
        assert.deepEqual(
          (await store.listFriends(a.id)).map((f) => f.state),
          ["friends"],
        );
      });

      it("ends a friendship or a request from either side, and says when there was none", async () => {
        const { store, newUser } = ctx();
        const [a, b, c] = [await newUser(), await newUser(), await newUser()];
        await store.addFriend(a.id, b.id);
        await store.addFriend(b.id, a.id);
        await store.addFriend(c.id, a.id);
        assert.equal(await store.removeFriend(b.id, a.id), true);
        assert.equal(await store.removeFriend(a.id, c.id), true, "declining a received request");
        assert.equal(await store.removeFriend(a.id, b.id), false);
        assert.deepEqual(await store.listFriends(a.id), []);
        assert.deepEqual(await store.friendIdsOf([b.id]), new Map([[b.id, []]]));
      });
    });

    describe("push tokens", () => {
      it("sets, lists while logged in, replaces and removes a device's token, Web Push keys included", async () => {
        const { store, newUser, refresh } = ctx();
        const user = await newUser();
        const [phone, browser] = [(await store.upsertDevice(user.id, undefined, "phone"))!, (await store.upsertDevice(user.id, undefined, "browser"))!];
        const now = new Date();
        assert.deepEqual(await store.setPushToken(user.id, phone.id, { platform: 2, token: "ab".repeat(32) }, now), { status: "set", movedFrom: [] });
        const web = { platform: 3, endpoint: "https://push.example/sub-1", p256dh: "BKey", auth: "c2VjcmV0" } as const;
        await store.setPushToken(user.id, browser.id, web, now);
        assert.deepEqual(await store.pushTargets(user.id), [], "devices without a live session are no targets");
        await store.startSession(user.id, phone.id, refresh());
        await store.startSession(user.id, browser.id, refresh());
        assert.deepEqual(await store.pushTargets(user.id), [
          { deviceId: phone.id, token: { platform: 2, token: "ab".repeat(32) } },
          { deviceId: browser.id, token: web },
        ]);
        assert.equal((await store.listDevices(user.id))[1]?.pushPlatform, 3);
        await store.setPushToken(user.id, phone.id, { platform: 1, token: "fcm-1" }, now);
        assert.equal(await store.removePushToken(browser.id, "https://push.example/other"), undefined, "not its token");
        assert.equal(await store.removePushToken(browser.id, web.endpoint), user.id);
        assert.deepEqual(await store.pushTargets(user.id), [{ deviceId: phone.id, token: { platform: 1, token: "fcm-1" } }]);
        assert.deepEqual(await store.setPushToken(user.id, phone.id, undefined, now), { status: "set", movedFrom: [] });
        assert.deepEqual(await store.pushTargets(user.id), []);
      });

      it("moves a token from the user's other device, refuses a device that is not the user's", async () => {
        const { store, newUser, refresh } = ctx();
        const [user, other] = [await newUser(), await newUser()];
        const [old, reinstalled] = [(await store.upsertDevice(user.id, undefined, "old"))!, (await store.upsertDevice(user.id, undefined, "new"))!];
        await store.startSession(user.id, old.id, refresh());
        await store.startSession(user.id, reinstalled.id, refresh());
        const token = { platform: 1, token: `moving-${user.id}` } as const;
        await store.setPushToken(user.id, old.id, token, new Date());
        assert.deepEqual(await store.setPushToken(user.id, reinstalled.id, token, new Date()), { status: "set", movedFrom: [user.id] });
        assert.deepEqual(
          (await store.pushTargets(user.id)).map((t) => t.deviceId),
          [reinstalled.id],
        );
        assert.deepEqual(await store.setPushToken(other.id, old.id, { platform: 1, token: "x" }, new Date()), { status: "not_your_device" });
      });

      it("refuses a token another user's live device holds, and takes it once that session is revoked or expired", async () => {
        const { store, newUser, refresh } = ctx();
        const [holder, taker] = [await newUser(), await newUser()];
        const [held, mine] = [(await store.upsertDevice(holder.id, undefined, "h"))!, (await store.upsertDevice(taker.id, undefined, "t"))!];
        const holding = (await store.startSession(holder.id, held.id, refresh(HOUR))).session;
        await store.startSession(taker.id, mine.id, refresh());
        const token = { platform: 1, token: `contested-${holder.id}` } as const;
        await store.setPushToken(holder.id, held.id, token, new Date());
        assert.deepEqual(await store.setPushToken(taker.id, mine.id, token, new Date()), { status: "taken" });
        assert.deepEqual(
          (await store.pushTargets(holder.id)).map((t) => t.deviceId),
          [held.id],
          "the refused registration moved nothing",
        );
        assert.deepEqual(
          await store.setPushToken(taker.id, mine.id, token, new Date(Date.now() + 2 * HOUR)),
          { status: "set", movedFrom: [holder.id] },
          "expired by `now`",
        );
        // Back to the holder (its session lives on), then revoked: free again.
        await store.setPushToken(taker.id, mine.id, undefined, new Date());
        await store.setPushToken(holder.id, held.id, token, new Date());
        await store.revokeSession(holding.id);
        assert.deepEqual(await store.setPushToken(taker.id, mine.id, token, new Date()), { status: "set", movedFrom: [holder.id] });
      });

      it("lets only one of two users racing for a free token have it", async () => {
        const { store, newUser, refresh } = ctx();
        const [a, b] = [await newUser(), await newUser()];
        const [da, db] = [(await store.upsertDevice(a.id, undefined, "a"))!, (await store.upsertDevice(b.id, undefined, "b"))!];
        await store.startSession(a.id, da.id, refresh());
        await store.startSession(b.id, db.id, refresh());
        const token = { platform: 1, token: `raced-${a.id}` } as const;
        const outcomes = await Promise.all([store.setPushToken(a.id, da.id, token, new Date()), store.setPushToken(b.id, db.id, token, new Date())]);
        assert.deepEqual(outcomes.map((o) => o.status).sort(), ["set", "taken"]);
        const holders = [...(await store.pushTargets(a.id)), ...(await store.pushTargets(b.id))];
        assert.equal(holders.length, 1);
      });
    });

    describe("settings", () => {
      it("gives the defaults to a user who never saved any, then what was saved last, 64-bit ids exact", async () => {
        const { store, newUser } = ctx();
        const user = await newUser();
        assert.deepEqual(await store.getSettings(user.id), { ...DEFAULT_SETTINGS, mutedConversationIds: [] });
        const saved: SettingsRecord = {
          pushEnabled: false,
          emailEnabled: true,
          smsEnabled: true,
          showPreviews: false,
          mutedConversationIds: [9_007_199_254_740_993n, 42n],
          hidePresence: true,
          email: "u@example.org",
          phone: "+14155550123",
          previewLength: 500,
          muteMentions: true,
        };
        await store.putSettings(user.id, saved);
        assert.deepEqual(await store.getSettings(user.id), saved);
        const next = { ...saved, mutedConversationIds: [], hidePresence: false, previewLength: 0, muteMentions: false };
        await store.putSettings(user.id, next);
        assert.deepEqual(await store.getSettings(user.id), next);
      });

      it("tells which of the named users hide their presence", async () => {
        const { store, newUser } = ctx();
        const [hiding, showing, silent] = [await newUser(), await newUser(), await newUser()];
        await store.putSettings(hiding.id, { ...DEFAULT_SETTINGS, mutedConversationIds: [], hidePresence: true });
        await store.putSettings(showing.id, { ...DEFAULT_SETTINGS, mutedConversationIds: [] });
        assert.deepEqual(await store.hidingPresence([showing.id, hiding.id, silent.id, hiding.id, 1n]), new Set([hiding.id]));
        assert.deepEqual(await store.hidingPresence([]), new Set());
      });
    });
  });
}
