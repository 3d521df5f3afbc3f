import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { UsernameTaken } from "../src/errors.js";
import type { AccountStore, RefreshRecord, User } from "../src/ports.js";

export interface AccountStoreFixture {
  store: AccountStore;
  cleanup(): Promise<void>;
}

/**
 * What every contract section needs: the store, and users and refresh
 * tokens no other test uses (the store is shared by a suite's tests).
 */
export interface ContractContext {
  store: AccountStore;
  newUser(): Promise<User>;
  refresh(ttlMs?: number): RefreshRecord;
}

/** Opens the store once for the suite and hands `sections` a context; the sections' tests share the store. */
export function withAccountStore(title: string, open: () => Promise<AccountStoreFixture>, sections: (ctx: () => ContractContext) => void): void {
  describe(title, () => {
    let fixture: AccountStoreFixture;
    let context: ContractContext;
    let users = 0;
    before(async () => {
      fixture = await open();
      const store = fixture.store;
      context = {
        store,
        newUser: () => store.createUser(`user_${++users}`, `User ${users}`, `hash-${users}`),
        refresh: (ttlMs = 86_400_000) => ({
          handle: randomBytes(16).toString("base64url"),
          hash: randomBytes(32).toString("base64url"),
          expiresAt: new Date(Date.now() + ttlMs),
        }),
      };
    });
    after(() => fixture?.cleanup());
    sections(() => context);
  });
}

const byId = <T extends { id: bigint }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The AccountStore contract for users, devices, sessions and the device cap (see the port's doc comments). */
export function describeAccountStoreContract(name: string, open: () => Promise<AccountStoreFixture>): void {
  withAccountStore(`account store contract (${name})`, open, (ctx) => {
    describe("users", () => {
      it("creates a user with an id from 1000 up and finds it by id and by its exact stored name", async () => {
        const { store } = ctx();
        const before = Date.now();
        const ann = await store.createUser("ann", "Ann", "hash-ann");
        assert.equal(typeof ann.id, "bigint");
        assert.ok(ann.id >= 1000n, `ids start at 1000, got ${ann.id}`);
        assert.deepEqual([ann.username, ann.displayName, ann.passwordHash], ["ann", "Ann", "hash-ann"]);
        assert.ok(ann.createdAt instanceof Date && ann.createdAt.getTime() >= before - 1_000 && ann.createdAt.getTime() <= Date.now() + 1_000);
        assert.deepEqual(await store.findUserById(ann.id), ann);
        assert.deepEqual(await store.findUserByName("ann"), ann);
        // The domain lower-cases names before it asks; the store compares them as stored.
        assert.equal(await store.findUserByName("ANN"), undefined);
        assert.equal(await store.findUserByName("nobody"), undefined);
        assert.equal(await store.findUserById(ann.id + 1_000_000n), undefined);
      });

      it("refuses a taken username with UsernameTaken, also when two sign-ups race for it", async () => {
        const { store } = ctx();
        await store.createUser("bea", "Bea", "h");
        await assert.rejects(store.createUser("bea", "Other Bea", "h2"), (err: unknown) => err instanceof UsernameTaken && /"bea" is taken/.test(err.message));
        const race = await Promise.allSettled([store.createUser("cy", "Cy 1", "h"), store.createUser("cy", "Cy 2", "h")]);
        assert.equal(race.filter((r) => r.status === "fulfilled").length, 1);
        const refused = race.find((r) => r.status === "rejected");
        assert.ok(refused?.status === "rejected" && refused.reason instanceof UsernameTaken, String(refused));
        assert.equal((await store.findUserByName("bea"))?.displayName, "Bea", "the refused sign-up changed nothing");
      });

      it("finds several users by id, each once, leaving unknown ids out", async () => {
        const { store, newUser } = ctx();
        const [a, b] = [await newUser(), await newUser()];
        const found = await store.findUsersByIds([b.id, a.id, b.id, 999_999_999n]);
        assert.deepEqual([...found].sort(byId), [a, b].sort(byId));
        assert.deepEqual(await store.findUsersByIds([]), []);
      });

      it("renames a user, and answers undefined for an unknown one", async () => {
        const { store, newUser } = ctx();
        const user = await newUser();
        const renamed = await store.updateDisplayName(user.id, "Renamed ✓");
        assert.deepEqual(renamed, { ...user, displayName: "Renamed ✓" });
        assert.deepEqual(await store.findUserById(user.id), renamed);
        assert.equal(await store.updateDisplayName(999_999_999n, "x"), undefined);
      });
    });

    describe("devices and sessions", () => {
      it("registers a device, renames it when its owner names it again, and refuses another user's", async () => {
        const { store, newUser } = ctx();
        const [owner, other] = [await newUser(), await newUser()];
        const phone = await store.upsertDevice(owner.id, undefined, "phone");
        assert.ok(phone && phone.id >= 1000n);
        assert.deepEqual([phone.userId, phone.name, phone.loggedIn, phone.pushPlatform], [owner.id, "phone", false, 0]);
        assert.ok(phone.createdAt instanceof Date && phone.lastSeenAt instanceof Date);
        const renamed = await store.upsertDevice(owner.id, phone.id, "old phone");
        assert.deepEqual([renamed?.id, renamed?.name], [phone.id, "old phone"]);
        assert.equal(await store.upsertDevice(other.id, phone.id, "stolen"), undefined);
        const laptop = await store.upsertDevice(owner.id, undefined, "laptop");
        await store.startSession(owner.id, laptop!.id, ctx().refresh());
        const listed = await store.listDevices(owner.id);
        assert.deepEqual(
          listed.map((d) => [d.id, d.name, d.loggedIn]),
          [
            [phone.id, "old phone", false],
            [laptop!.id, "laptop", true],
          ],
        );
        assert.deepEqual(await store.listDevices(other.id), []);
      });

      it("starts a session that replaces the device's live one, and finds it by id and by handle", async () => {
        const { store, newUser, refresh } = ctx();
        const user = await newUser();
        const device = (await store.upsertDevice(user.id, undefined, "phone"))!;
        const first = await store.startSession(user.id, device.id, refresh());
        assert.deepEqual(first.replaced, []);
        const token = refresh();
        const second = await store.startSession(user.id, device.id, token);
        assert.deepEqual(second.replaced, [first.session.id]);
        assert.deepEqual(second.session, {
          id: second.session.id,
          userId: user.id,
          deviceId: device.id,
          handle: token.handle,
          refreshHash: token.hash,
          usedRefreshHashes: [],
          refreshExpiresAt: token.expiresAt,
          revoked: false,
        });
        assert.deepEqual(await findSession(store, second.session.id), second.session);
        assert.deepEqual(await store.findSessionByHandle(token.handle), second.session);
        assert.equal((await findSession(store, first.session.id))?.revoked, true);
        assert.equal(await store.findSessionByHandle("no-such-handle"), undefined);
        const both = await store.findSessions([first.session.id, 999_999_999n, second.session.id]);
        assert.deepEqual(both.map((s) => s.id).sort(), [first.session.id, second.session.id].sort(), "unknown ids are left out");
        assert.deepEqual(await store.findSessions([]), []);
        assert.equal(await store.revokeSession(second.session.id), true);
        assert.equal(await store.revokeSession(second.session.id), false, "already revoked");
      });

      it("rotates a refresh token once per expected hash, keeping the newest used hashes, never on a revoked session", async () => {
        const { store, newUser, refresh } = ctx();
        const user = await newUser();
        const device = (await store.upsertDevice(user.id, undefined, "phone"))!;
        const start = refresh();
        const { session } = await store.startSession(user.id, device.id, start);
        assert.equal(await store.rotateRefresh(session.id, "not-the-hash", refresh(), 2), false);
        assert.deepEqual(await findSession(store, session.id), session, "a wrong hash changes nothing");
        // Two refreshes with one token at the same moment: one wins.
        const race = await Promise.all([store.rotateRefresh(session.id, start.hash, refresh(), 2), store.rotateRefresh(session.id, start.hash, refresh(), 2)]);
        assert.deepEqual(race.sort(), [false, true]);
        const afterRace = (await findSession(store, session.id))!;
        assert.deepEqual(afterRace.usedRefreshHashes, [start.hash]);
        const next = refresh();
        assert.equal(await store.rotateRefresh(session.id, afterRace.refreshHash, next, 2), true);
        const third = refresh();
        assert.equal(await store.rotateRefresh(session.id, next.hash, third, 2), true);
        const rotated = (await findSession(store, session.id))!;
        assert.deepEqual(rotated.usedRefreshHashes, [next.hash, afterRace.refreshHash], "newest first, at most 2");
        assert.deepEqual([rotated.handle, rotated.refreshHash, rotated.refreshExpiresAt], [third.handle, third.hash, third.expiresAt]);
        assert.equal(await store.findSessionByHandle(start.handle), undefined, "the old handle is gone");
        assert.equal(await store.rotateRefresh(session.id, third.hash, refresh(), 0), true);
        assert.deepEqual((await findSession(store, session.id))!.usedRefreshHashes, [], "keepUsed 0 keeps none");
        const current = (await findSession(store, session.id))!;
        await store.revokeSession(session.id);
        assert.equal(await store.rotateRefresh(session.id, current.refreshHash, refresh(), 2), false);
      });

      it("logs a device out: its live sessions end and its push token goes; another user's device is refused", async () => {
        const { store, newUser, refresh } = ctx();
        const [user, other] = [await newUser(), await newUser()];
        const device = (await store.upsertDevice(user.id, undefined, "phone"))!;
        const { session } = await store.startSession(user.id, device.id, refresh());
        await store.setPushToken(user.id, device.id, { platform: 1, token: `logout-${device.id}` }, new Date());
        assert.equal(await store.logOutDevice(other.id, device.id), undefined);
        assert.equal((await findSession(store, session.id))?.revoked, false, "the refused log-out changed nothing");
        assert.deepEqual(await store.logOutDevice(user.id, device.id), [session.id]);
        assert.deepEqual(await store.logOutDevice(user.id, device.id), [], "nothing left to end");
        await store.startSession(user.id, device.id, refresh());
        assert.deepEqual(await store.pushTargets(user.id), [], "logged in again, it has no token until it registers one");
        assert.equal((await store.listDevices(user.id))[0]?.pushPlatform, 0);
      });

      it("changes the password only while the hash and the caller's session are as expected, ending the user's other sessions", async () => {
        const { store, newUser, refresh } = ctx();
        const [user, other] = [await newUser(), await newUser()];
        const [phone, laptop] = [(await store.upsertDevice(user.id, undefined, "phone"))!, (await store.upsertDevice(user.id, undefined, "laptop"))!];
        const mine = (await store.startSession(user.id, phone.id, refresh())).session;
        const theirs = (await store.startSession(user.id, laptop.id, refresh())).session;
        const elsewhere = await store.upsertDevice(other.id, undefined, "x");
        const othersSession = (await store.startSession(other.id, elsewhere!.id, refresh())).session;
        assert.deepEqual(await store.changePassword(user.id, mine.id, "stale-hash", "new"), { status: "password_changed_meanwhile" });
        assert.deepEqual(await store.changePassword(user.id, othersSession.id, user.passwordHash, "new"), { status: "session_ended" });
        assert.equal((await store.findUserById(user.id))?.passwordHash, user.passwordHash, "refused changes changed nothing");
        assert.deepEqual(await store.changePassword(user.id, mine.id, user.passwordHash, "new-hash"), {
          status: "changed",
          ended: [{ sessionId: theirs.id, deviceId: laptop.id }],
        });
        assert.equal((await store.findUserById(user.id))?.passwordHash, "new-hash");
        assert.deepEqual([(await findSession(store, mine.id))?.revoked, (await findSession(store, theirs.id))?.revoked], [false, true]);
        assert.equal((await findSession(store, othersSession.id))?.revoked, false, "another user's sessions live on");
        await store.revokeSession(mine.id);
        assert.deepEqual(await store.changePassword(user.id, mine.id, "new-hash", "newer"), { status: "session_ended" });
      });
    });

    describe("the device cap (logOutLeastRecentlyUsed)", () => {
      it("logs out the devices used least recently (log-in or refresh), never `keep`, and only logged-in ones count", async () => {
        const { store, newUser, refresh } = ctx();
        const user = await newUser();
        const device = async (name: string) => (await store.upsertDevice(user.id, undefined, name))!;
        const [idle, a, b, c] = [await device("idle"), await device("a"), await device("b"), await device("c")];
        // Back to back, with no pause: uses in the same millisecond still count in the order they happened.
        const sa = (await store.startSession(user.id, a.id, refresh())).session;
        const sb = (await store.startSession(user.id, b.id, refresh())).session;
        const sc = (await store.startSession(user.id, c.id, refresh())).session;
        assert.equal(await store.rotateRefresh(sa.id, sa.refreshHash, refresh(), 5), true); // a is now the most recently used
        assert.deepEqual(await store.logOutLeastRecentlyUsed(user.id, c.id, 3), [], "three logged in (idle has no session): within the cap");
        await store.setPushToken(user.id, b.id, { platform: 1, token: `cap-${b.id}` }, new Date());
        assert.deepEqual(await store.logOutLeastRecentlyUsed(user.id, c.id, 2), [{ sessionId: sb.id, deviceId: b.id }]);
        assert.deepEqual(
          (await store.pushTargets(user.id)).map((t) => t.deviceId),
          [],
          "the evicted device's token went with it",
        );
        // c is least recently used now, but it is the one to keep.
        assert.deepEqual(await store.logOutLeastRecentlyUsed(user.id, c.id, 1), [{ sessionId: sa.id, deviceId: a.id }]);
        assert.deepEqual(
          (await store.listDevices(user.id)).map((d) => [d.id, d.loggedIn]),
          [
            [idle.id, false],
            [a.id, false],
            [b.id, false],
            [c.id, true],
          ],
        );
        assert.equal((await findSession(store, sc.id))?.revoked, false);
      });

      it("counts a device named again at log-in as used", async () => {
        const { store, newUser, refresh } = ctx();
        const user = await newUser();
        const [a, b] = [(await store.upsertDevice(user.id, undefined, "a"))!, (await store.upsertDevice(user.id, undefined, "b"))!];
        await store.startSession(user.id, a.id, refresh());
        const sb = (await store.startSession(user.id, b.id, refresh())).session;
        await store.upsertDevice(user.id, a.id, "a again");
        const c = (await store.upsertDevice(user.id, undefined, "c"))!;
        await store.startSession(user.id, c.id, refresh());
        assert.deepEqual(await store.logOutLeastRecentlyUsed(user.id, c.id, 2), [{ sessionId: sb.id, deviceId: b.id }]);
      });
    });
  });
}

/** One session by id, through the batch lookup the store offers. */
async function findSession(store: AccountStore, id: bigint) {
  const found = await store.findSessions([id]);
  assert.ok(found.length <= 1);
  return found[0];
}
