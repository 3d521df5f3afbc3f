import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { FriendshipState } from "@parley/contracts/parley/account/v1/account";
import { bearer, PASSWORD, rejects, startAccountHarness, type AccountHarness, type StoreKind } from "./harness.js";

for (const kind of ["sqlite", "postgres"] satisfies StoreKind[]) {
  describe(`account service (${kind})`, () => {
    let h: AccountHarness;
    before(async () => {
      h = await startAccountHarness(kind);
    });
    after(async () => {
      await h?.close();
    });

    const signUpAndLogIn = (username: string, deviceName?: string) => h.signUpAndLogIn(username, deviceName);

    describe("sign up", () => {
      it("creates an account whose display name defaults to the username", async () => {
        const { profile } = await h.api.signUp({ username: "Alice", password: PASSWORD });
        assert.equal(profile?.username, "alice");
        assert.equal(profile?.displayName, "alice");
        assert.ok(profile!.userId > 0n);
      });
      it("refuses a taken username in any case with ALREADY_EXISTS", async () => {
        await rejects(h.api.signUp({ username: "ALICE", password: PASSWORD }), Code.AlreadyExists, /taken/);
      });
      it("lets exactly one of many concurrent sign-ups with one name win", async () => {
        const results = await Promise.allSettled(Array.from({ length: 8 }, () => h.api.signUp({ username: "racer", password: PASSWORD })));
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
        for (const r of results) if (r.status === "rejected") assert.equal(ConnectError.from(r.reason).code, Code.AlreadyExists);
      });
      it("answers INVALID_ARGUMENT naming the rule for bad usernames and passwords", async () => {
        await rejects(h.api.signUp({ username: "", password: PASSWORD }), Code.InvalidArgument, /username is required/);
        await rejects(h.api.signUp({ username: "x!", password: PASSWORD }), Code.InvalidArgument, /username/);
        await rejects(h.api.signUp({ username: "bob", password: "" }), Code.InvalidArgument, /password is required/);
        await rejects(h.api.signUp({ username: "bob", password: "short" }), Code.InvalidArgument, /at least 10/);
        await rejects(h.api.signUp({ username: "bob", password: "p".repeat(10_000) }), Code.InvalidArgument, /at most 128/);
        await rejects(h.api.signUp({ username: "bob", password: PASSWORD, displayName: "\u0007" }), Code.InvalidArgument, /display_name/);
      });
    });

    describe("log in and sessions", () => {
      it("logs in from a named device and returns working tokens", async () => {
        const res = await signUpAndLogIn("carol", "Pixel 9");
        assert.equal(res.device?.name, "Pixel 9");
        assert.equal(res.device?.loggedIn, true);
        const verified = await h.internal.verifyToken({ accessToken: res.session!.accessToken });
        assert.equal(verified.userId, res.profile!.userId);
        assert.equal(verified.deviceId, res.device!.deviceId);
      });
      it("reuses a device id given back at the next log-in, and registers a new device without one", async () => {
        const first = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "Pixel" });
        const again = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "Pixel renamed", deviceId: first.device!.deviceId });
        assert.equal(again.device!.deviceId, first.device!.deviceId);
        assert.equal(again.device!.name, "Pixel renamed");
        const other = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "laptop" });
        assert.notEqual(other.device!.deviceId, first.device!.deviceId);
      });
      it("ends the device's earlier session when it logs in again", async () => {
        const first = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "tablet" });
        await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "tablet", deviceId: first.device!.deviceId });
        await rejects(h.internal.verifyToken({ accessToken: first.session!.accessToken }), Code.Unauthenticated, /session has ended/);
      });
      it("refuses a device id that belongs to someone else with NOT_FOUND", async () => {
        const dave = await signUpAndLogIn("dave");
        await rejects(
          h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "x", deviceId: dave.device!.deviceId }),
          Code.NotFound,
          /not one of your devices/,
        );
      });
      it("answers a wrong password and an unknown user alike with UNAUTHENTICATED", async () => {
        await rejects(h.api.logIn({ username: "carol", password: "wrong password!", deviceName: "x" }), Code.Unauthenticated, /wrong username or password/);
        await rejects(h.api.logIn({ username: "nobody_here", password: PASSWORD, deviceName: "x" }), Code.Unauthenticated, /wrong username or password/);
      });
      it("refuses a missing device name with INVALID_ARGUMENT", async () => {
        await rejects(h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "" }), Code.InvalidArgument, /device_name/);
      });
      it("rotates refresh tokens and ends the session when an old one is replayed", async () => {
        const login = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "watch" });
        const refreshed = await h.api.refreshSession({ refreshToken: login.session!.refreshToken });
        await h.internal.verifyToken({ accessToken: refreshed.session!.accessToken });
        await rejects(h.api.refreshSession({ refreshToken: login.session!.refreshToken }), Code.Unauthenticated, /already used/);
        // The replay revoked the session: the newest tokens stop working too.
        await rejects(h.internal.verifyToken({ accessToken: refreshed.session!.accessToken }), Code.Unauthenticated);
        await rejects(h.api.refreshSession({ refreshToken: "garbage" }), Code.Unauthenticated, /not valid/);
      });
    });

    describe("refresh tokens", () => {
      const secretOf = (token: string) => token.split(".")[1]!;
      const handleOf = (token: string) => token.split(".")[0]!;
      const randomSecret = () => randomBytes(32).toString("base64url");
      /** Whether the session still works: its access token authenticates and its refresh token rotates. */
      const stillLive = async (session: { accessToken: string; refreshToken: string }) => {
        await h.api.getProfile({}, bearer(session.accessToken));
        return (await h.api.refreshSession({ refreshToken: session.refreshToken })).session!;
      };

      it("names the session by a random handle, not by its sequential id", async () => {
        await h.api.signUp({ username: "hazel", password: PASSWORD });
        const one = await h.api.logIn({ username: "hazel", password: PASSWORD, deviceName: "one" });
        const two = await h.api.logIn({ username: "hazel", password: PASSWORD, deviceName: "two" });
        for (const login of [one, two]) assert.match(login.session!.refreshToken, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
        const sessionId = (await h.internal.verifyToken({ accessToken: one.session!.accessToken })).sessionId;
        assert.notEqual(handleOf(one.session!.refreshToken), sessionId.toString());
        assert.notEqual(handleOf(one.session!.refreshToken), handleOf(two.session!.refreshToken));
      });
      it("refuses a forged token for someone else's session and changes nothing", async () => {
        await h.api.signUp({ username: "victim", password: PASSWORD });
        const victim = await h.api.logIn({ username: "victim", password: PASSWORD, deviceName: "phone" });
        const victimSession = (await h.internal.verifyToken({ accessToken: victim.session!.accessToken })).sessionId;
        // The attack of issue 12: session ids are sequential, so the attacker tries the ids around their own.
        for (const id of [victimSession - 1n, victimSession, victimSession + 1n]) {
          await rejects(h.api.refreshSession({ refreshToken: `${id}.${randomSecret()}` }), Code.Unauthenticated, /not valid/);
        }
        await rejects(h.api.refreshSession({ refreshToken: `${"A".repeat(22)}.${randomSecret()}` }), Code.Unauthenticated, /not valid/);
        const renewed = await stillLive(victim.session!);
        await stillLive(renewed);
      });
      it("refuses a token with the session's real handle but a wrong secret, without revoking", async () => {
        const login = await h.api.logIn({ username: "victim", password: PASSWORD, deviceName: "laptop" });
        const token = login.session!.refreshToken;
        await rejects(h.api.refreshSession({ refreshToken: `${handleOf(token)}.${randomSecret()}` }), Code.Unauthenticated, /not valid/);
        const tampered = `${handleOf(token)}.${secretOf(token).slice(0, -1)}${secretOf(token).endsWith("A") ? "B" : "A"}`;
        await rejects(h.api.refreshSession({ refreshToken: tampered }), Code.Unauthenticated, /not valid/);
        await stillLive(login.session!);
      });
      it("ends the session when a token it really issued is replayed, however many rotations back within the history", async () => {
        const login = await h.api.logIn({ username: "victim", password: PASSWORD, deviceName: "tablet" });
        let session = login.session!;
        const issued = [session];
        for (let i = 0; i < 11; i++) {
          session = (await h.api.refreshSession({ refreshToken: session.refreshToken })).session!;
          issued.push(session);
        }
        // Eleven used tokens, ten remembered: the oldest is refused as unknown, and changes nothing.
        await rejects(h.api.refreshSession({ refreshToken: issued[0]!.refreshToken }), Code.Unauthenticated, /not valid/);
        await h.api.getProfile({}, bearer(session.accessToken));
        // The second oldest is remembered: its replay ends the session for every holder.
        await rejects(h.api.refreshSession({ refreshToken: issued[1]!.refreshToken }), Code.Unauthenticated, /already used/);
        await rejects(h.api.getProfile({}, bearer(session.accessToken)), Code.Unauthenticated, /session has ended/);
        await rejects(h.api.refreshSession({ refreshToken: session.refreshToken }), Code.Unauthenticated, /session has ended/);
      });
      it("lets exactly one of two refreshes racing with one token win", async () => {
        const login = await h.api.logIn({ username: "victim", password: PASSWORD, deviceName: "desktop" });
        const results = await Promise.allSettled([1, 2].map(() => h.api.refreshSession({ refreshToken: login.session!.refreshToken })));
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
        // The loser either lost the swap or, arriving after it, was a replay that ended the session: refused both ways.
        for (const r of results) if (r.status === "rejected") assert.equal(ConnectError.from(r.reason).code, Code.Unauthenticated);
      });
    });

    describe("change password", () => {
      it("changes the password, ends every other session, and keeps the caller's", async () => {
        await h.api.signUp({ username: "pat", password: PASSWORD });
        const phone = await h.api.logIn({ username: "pat", password: PASSWORD, deviceName: "phone" });
        const laptop = await h.api.logIn({ username: "pat", password: PASSWORD, deviceName: "stolen laptop" });
        const res = await h.api.changePassword({ currentPassword: PASSWORD, newPassword: "a brand new secret" }, bearer(phone.session!.accessToken));
        assert.deepEqual(res.loggedOutDeviceIds, [laptop.device!.deviceId]);
        await rejects(h.api.getProfile({}, bearer(laptop.session!.accessToken)), Code.Unauthenticated);
        await rejects(h.api.refreshSession({ refreshToken: laptop.session!.refreshToken }), Code.Unauthenticated);
        await h.api.getProfile({}, bearer(phone.session!.accessToken));
        await h.api.refreshSession({ refreshToken: phone.session!.refreshToken });
        await rejects(h.api.logIn({ username: "pat", password: PASSWORD, deviceName: "x" }), Code.Unauthenticated, /wrong username or password/);
        const again = await h.api.logIn({ username: "pat", password: "a brand new secret", deviceName: "x" });
        const devices = (await h.api.listDevices({}, bearer(again.session!.accessToken))).devices;
        assert.equal(devices.find((d) => d.deviceId === laptop.device!.deviceId)?.loggedIn, false);
      });
      it("refuses a wrong current password with PERMISSION_DENIED and changes nothing", async () => {
        const phone = await h.api.logIn({ username: "pat", password: "a brand new secret", deviceName: "phone" });
        const laptop = await h.api.logIn({ username: "pat", password: "a brand new secret", deviceName: "laptop" });
        await rejects(
          h.api.changePassword({ currentPassword: "not my password", newPassword: "another new secret" }, bearer(phone.session!.accessToken)),
          Code.PermissionDenied,
          /current_password is wrong/,
        );
        await h.api.getProfile({}, bearer(laptop.session!.accessToken));
        await h.api.logIn({ username: "pat", password: "a brand new secret", deviceName: "y" });
      });
      it("holds the new password to the sign-up rules, and needs a token", async () => {
        const auth = bearer((await h.api.logIn({ username: "pat", password: "a brand new secret", deviceName: "phone" })).session!.accessToken);
        const change = (currentPassword: string, newPassword: string) => h.api.changePassword({ currentPassword, newPassword }, auth);
        await rejects(change("a brand new secret", "short"), Code.InvalidArgument, /new_password must be at least 10/);
        await rejects(change("a brand new secret", "my name is pat!"), Code.InvalidArgument, /new_password must not contain the username/);
        await rejects(change("a brand new secret", "a brand new secret"), Code.InvalidArgument, /new_password must differ/);
        await rejects(change("", "another new secret"), Code.InvalidArgument, /current_password is required/);
        await rejects(h.api.changePassword({ currentPassword: "a brand new secret", newPassword: "another new secret" }), Code.Unauthenticated);
      });
    });

    describe("tokens", () => {
      it("refuses missing, malformed, tampered and expired tokens with UNAUTHENTICATED", async () => {
        const login = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "desk" });
        const token = login.session!.accessToken;
        await rejects(h.api.getProfile({}), Code.Unauthenticated, /access token is required/);
        await rejects(h.api.getProfile({}, { headers: { authorization: token } }), Code.Unauthenticated, /Bearer/);
        await rejects(h.api.getProfile({}, bearer("not.a.jwt")), Code.Unauthenticated, /not valid/);
        const [header, payload, signature] = token.split(".");
        const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: "1" })).toString("base64url");
        await rejects(h.api.getProfile({}, bearer(`${header}.${forged}.${signature}`)), Code.Unauthenticated, /not valid/);
        const saved = h.clock.now;
        h.clock.now += 3_601_000;
        try {
          await rejects(h.api.getProfile({}, bearer(token)), Code.Unauthenticated, /expired/);
        } finally {
          h.clock.now = saved;
        }
        await h.api.getProfile({}, bearer(token));
      });
      it("checks many tokens in one VerifyTokens call, each answered in its place", async () => {
        const live = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "batch a" });
        const ended = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "batch b" });
        await h.api.logOut({}, bearer(ended.session!.accessToken));
        const tokens = [live.session!.accessToken, "not.a.jwt", ended.session!.accessToken, live.session!.accessToken];
        const { verdicts } = await h.internal.verifyTokens({ accessTokens: tokens });
        assert.deepEqual(
          verdicts.map((v) => v.verdict.case),
          ["identity", "refusal", "refusal", "identity"],
        );
        const one = await h.internal.verifyToken({ accessToken: live.session!.accessToken });
        assert.deepEqual(verdicts[0]!.verdict.value, one, "an identity as VerifyToken answers it");
        assert.match(String(verdicts[1]!.verdict.value), /not valid/);
        assert.match(String(verdicts[2]!.verdict.value), /session has ended/);
        await rejects(h.internal.verifyTokens({ accessTokens: [] }), Code.InvalidArgument, /access_tokens must name at least one/);
        await rejects(h.internal.verifyTokens({ accessTokens: Array.from({ length: 1_001 }, () => "x") }), Code.InvalidArgument, /at most 1000/);
      });
      it("stops a token working at once when its device logs out", async () => {
        const login = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "old phone" });
        const token = login.session!.accessToken;
        const seen: bigint[] = [];
        h.accounts.events.on("deviceLoggedOut", (_user, device) => seen.push(device));
        await h.api.logOut({}, bearer(token));
        await rejects(h.api.getProfile({}, bearer(token)), Code.Unauthenticated, /logged out/);
        await rejects(h.api.refreshSession({ refreshToken: login.session!.refreshToken }), Code.Unauthenticated);
        assert.deepEqual(seen, [login.device!.deviceId]);
      });
      it("logs out another of the caller's devices, and refuses a stranger's device", async () => {
        const a = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "a" });
        const b = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "b" });
        await h.api.logOut({ deviceId: b.device!.deviceId }, bearer(a.session!.accessToken));
        await rejects(h.internal.verifyToken({ accessToken: b.session!.accessToken }), Code.Unauthenticated);
        const devices = await h.api.listDevices({}, bearer(a.session!.accessToken));
        assert.equal(devices.devices.find((d) => d.deviceId === b.device!.deviceId)?.loggedIn, false);
        assert.equal(devices.devices.find((d) => d.deviceId === a.device!.deviceId)?.loggedIn, true);
        await rejects(h.api.logOut({ deviceId: 999_999_999n }, bearer(a.session!.accessToken)), Code.NotFound);
      });
      it("refuses to log out another user's real device, which keeps working", async () => {
        const carol = await h.api.logIn({ username: "carol", password: PASSWORD, deviceName: "c" });
        const dave = await h.api.logIn({ username: "dave", password: PASSWORD, deviceName: "d" });
        await rejects(h.api.logOut({ deviceId: dave.device!.deviceId }, bearer(carol.session!.accessToken)), Code.NotFound, /not one of your devices/);
        await h.api.getProfile({}, bearer(dave.session!.accessToken));
        const listed = (await h.api.listDevices({}, bearer(carol.session!.accessToken))).devices.map((d) => d.deviceId);
        assert.ok(!listed.includes(dave.device!.deviceId));
      });
    });

    describe("profiles", () => {
      it("reads one's own profile, another's by id or name, and NOT_FOUND for unknown users", async () => {
        const erin = await signUpAndLogIn("erin");
        const auth = bearer(erin.session!.accessToken);
        assert.equal((await h.api.getProfile({}, auth)).profile?.username, "erin");
        const carol = (await h.api.getProfile({ username: "CAROL" }, auth)).profile!;
        assert.equal((await h.api.getProfile({ userId: carol.userId }, auth)).profile?.username, "carol");
        await rejects(h.api.getProfile({ username: "ghost" }, auth), Code.NotFound, /ghost/);
        await rejects(h.api.getProfile({ userId: 123_456_789n }, auth), Code.NotFound);
      });
      it("changes the display name and refuses an empty or oversized one", async () => {
        const login = await h.api.logIn({ username: "erin", password: PASSWORD, deviceName: "phone" });
        const auth = bearer(login.session!.accessToken);
        assert.equal((await h.api.updateProfile({ displayName: " Erin E. " }, auth)).profile?.displayName, "Erin E.");
        await rejects(h.api.updateProfile({ displayName: "" }, auth), Code.InvalidArgument, /display_name is required/);
        await rejects(h.api.updateProfile({ displayName: "e".repeat(65) }, auth), Code.InvalidArgument, /at most 64/);
      });
    });

    describe("friends", () => {
      it("makes friends by request and accept, visible to both sides", async () => {
        const frank = await signUpAndLogIn("frank");
        const gina = await signUpAndLogIn("gina");
        const asFrank = bearer(frank.session!.accessToken);
        const asGina = bearer(gina.session!.accessToken);
        assert.equal((await h.api.addFriend({ username: "gina" }, asFrank)).state, FriendshipState.REQUEST_SENT);
        assert.equal((await h.api.addFriend({ username: "gina" }, asFrank)).state, FriendshipState.REQUEST_SENT, "repeating is harmless");
        const pending = await h.api.listFriends({}, asGina);
        assert.deepEqual(
          pending.friends.map((f) => [f.profile?.username, f.state]),
          [["frank", FriendshipState.REQUEST_RECEIVED]],
        );
        assert.equal((await h.api.addFriend({ userId: frank.profile!.userId }, asGina)).state, FriendshipState.FRIENDS);
        const friends = await h.api.listFriends({}, asFrank);
        assert.deepEqual(
          friends.friends.map((f) => [f.profile?.username, f.state]),
          [["gina", FriendshipState.FRIENDS]],
        );
        const ids = await h.internal.listFriendIds({ userId: gina.profile!.userId });
        assert.deepEqual(ids.friendIds, [frank.profile!.userId]);
        const [ginaId, frankId] = [gina.profile!.userId, frank.profile!.userId];
        const lists = await h.internal.listFriendIdsOf({ userIds: [ginaId, 999_999_999n, frankId, ginaId] });
        assert.deepEqual(
          lists.lists.map((l) => [l.userId, l.friendIds]),
          [
            [ginaId, [frankId]],
            [999_999_999n, []],
            [frankId, [ginaId]],
            [ginaId, [frankId]],
          ],
          "one list per asked id, in order, repeats included",
        );
        await rejects(h.internal.listFriendIdsOf({ userIds: [] }), Code.InvalidArgument, /user_ids must name at least one/);
        await rejects(h.internal.listFriendIdsOf({ userIds: Array.from({ length: 1_001 }, (_, i) => BigInt(i + 1)) }), Code.InvalidArgument, /at most 1000/);
        const check = await h.internal.checkFriendship({ userId: frank.profile!.userId, otherUserId: gina.profile!.userId });
        assert.equal(check.state, FriendshipState.FRIENDS);
      });
      it("makes two users who add each other at the same moment friends", async () => {
        const hank = await signUpAndLogIn("hank");
        const ivy = await signUpAndLogIn("ivy");
        await Promise.all([
          h.api.addFriend({ username: "ivy" }, bearer(hank.session!.accessToken)),
          h.api.addFriend({ username: "hank" }, bearer(ivy.session!.accessToken)),
        ]);
        const state = await h.internal.checkFriendship({ userId: hank.profile!.userId, otherUserId: ivy.profile!.userId });
        assert.equal(state.state, FriendshipState.FRIENDS);
      });
      it("removes a friendship or declines a request, and NOT_FOUND when there is none", async () => {
        const frank = await h.api.logIn({ username: "frank", password: PASSWORD, deviceName: "phone" });
        const gina = (await h.api.getProfile({ username: "gina" }, bearer(frank.session!.accessToken))).profile!;
        await h.api.removeFriend({ userId: gina.userId }, bearer(frank.session!.accessToken));
        assert.equal((await h.internal.checkFriendship({ userId: gina.userId, otherUserId: frank.profile!.userId })).state, FriendshipState.NONE);
        await rejects(h.api.removeFriend({ userId: gina.userId }, bearer(frank.session!.accessToken)), Code.NotFound);
      });
      it("refuses befriending oneself, unknown users, and a request naming nobody", async () => {
        const frank = await h.api.logIn({ username: "frank", password: PASSWORD, deviceName: "phone" });
        const auth = bearer(frank.session!.accessToken);
        await rejects(h.api.addFriend({ username: "frank" }, auth), Code.InvalidArgument, /yourself/);
        await rejects(h.api.addFriend({ username: "nobody_at_all" }, auth), Code.NotFound);
        await rejects(h.api.addFriend({}, auth), Code.InvalidArgument, /user_id or username/);
      });
    });

    describe("internal API", () => {
      it("looks up many users at once and leaves unknown ids out", async () => {
        const carol = (await h.accounts.profile({ username: "carol" })).id;
        const res = await h.internal.getUsers({ userIds: [carol, 987_654_321n] });
        assert.deepEqual(
          res.profiles.map((p) => p.username),
          ["carol"],
        );
        await rejects(h.internal.getUsers({ userIds: Array.from({ length: 1001 }, (_, i) => BigInt(i + 1)) }), Code.InvalidArgument, /1000/);
      });
    });
  });
}
