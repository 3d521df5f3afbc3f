import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { PushPlatform } from "@parley/contracts/parley/account/v1/account";
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

    describe("push tokens", () => {
      it("registers FCM, APNs and Web Push tokens per device and lists them for notify", async () => {
        const phone = await signUpAndLogIn("tina", "phone");
        const laptop = await h.api.logIn({ username: "tina", password: PASSWORD, deviceName: "laptop" });
        const browser = await h.api.logIn({ username: "tina", password: PASSWORD, deviceName: "browser" });
        await h.api.setPushToken({ platform: PushPlatform.FCM, token: "fcm-token-1" }, bearer(phone.session!.accessToken));
        await h.api.setPushToken({ platform: PushPlatform.APNS, token: "ab".repeat(32) }, bearer(laptop.session!.accessToken));
        await h.api.setPushToken(
          { platform: PushPlatform.WEB_PUSH, webPush: { endpoint: "https://push.example/abc", p256dh: "BKey", auth: "c2VjcmV0" } },
          bearer(browser.session!.accessToken),
        );
        const targets = await h.internal.getNotificationTargets({ userId: phone.profile!.userId });
        assert.equal(targets.profile?.username, "tina");
        assert.deepEqual(
          targets.pushTargets.map((t) => [t.deviceId, t.platform, t.token || t.webPush?.endpoint]),
          [
            [phone.device!.deviceId, PushPlatform.FCM, "fcm-token-1"],
            [laptop.device!.deviceId, PushPlatform.APNS, "ab".repeat(32)],
            [browser.device!.deviceId, PushPlatform.WEB_PUSH, "https://push.example/abc"],
          ],
        );
        // A token the provider reports invalid is removed; a logged-out device's token is gone too.
        await h.internal.removePushToken({ deviceId: phone.device!.deviceId, token: "fcm-token-1" });
        await h.api.logOut({}, bearer(laptop.session!.accessToken));
        const after = await h.internal.getNotificationTargets({ userId: phone.profile!.userId });
        assert.deepEqual(
          after.pushTargets.map((t) => t.deviceId),
          [browser.device!.deviceId],
        );
      });
      it("moves a token to the device that registered it last", async () => {
        const a = await h.api.logIn({ username: "tina", password: PASSWORD, deviceName: "old install" });
        const b = await h.api.logIn({ username: "tina", password: PASSWORD, deviceName: "new install" });
        await h.api.setPushToken({ platform: PushPlatform.FCM, token: "moving-token" }, bearer(a.session!.accessToken));
        await h.api.setPushToken({ platform: PushPlatform.FCM, token: "moving-token" }, bearer(b.session!.accessToken));
        const targets = await h.internal.getNotificationTargets({ userId: a.profile!.userId });
        assert.deepEqual(
          targets.pushTargets.filter((t) => t.token === "moving-token").map((t) => t.deviceId),
          [b.device!.deviceId],
        );
      });
      it("refuses another user's token while the device holding it is logged in, and moves nothing", async () => {
        const owner = await signUpAndLogIn("owner", "tablet");
        const other = await signUpAndLogIn("other", "phone");
        await h.api.setPushToken({ platform: PushPlatform.FCM, token: "owners-token" }, bearer(owner.session!.accessToken));
        await rejects(
          h.api.setPushToken({ platform: PushPlatform.FCM, token: "owners-token" }, bearer(other.session!.accessToken)),
          Code.AlreadyExists,
          /another account/,
        );
        const ownerTargets = await h.internal.getNotificationTargets({ userId: owner.profile!.userId });
        assert.deepEqual(
          ownerTargets.pushTargets.map((t) => [t.deviceId, t.token]),
          [[owner.device!.deviceId, "owners-token"]],
        );
        assert.deepEqual((await h.internal.getNotificationTargets({ userId: other.profile!.userId })).pushTargets, []);
      });
      it("frees a token when the device holding it logs out (a shared family tablet)", async () => {
        const owner = await h.api.logIn({ username: "owner", password: PASSWORD, deviceName: "family tablet" });
        const other = await h.api.logIn({ username: "other", password: PASSWORD, deviceName: "family tablet" });
        await h.api.setPushToken({ platform: PushPlatform.APNS, token: "cd".repeat(32) }, bearer(owner.session!.accessToken));
        await rejects(h.api.setPushToken({ platform: PushPlatform.APNS, token: "CD".repeat(32) }, bearer(other.session!.accessToken)), Code.AlreadyExists);
        await h.api.logOut({}, bearer(owner.session!.accessToken));
        await h.api.setPushToken({ platform: PushPlatform.APNS, token: "CD".repeat(32) }, bearer(other.session!.accessToken));
        const targets = await h.internal.getNotificationTargets({ userId: other.profile!.userId });
        assert.deepEqual(
          targets.pushTargets.map((t) => [t.deviceId, t.token]),
          [[other.device!.deviceId, "cd".repeat(32)]],
        );
      });
      it("frees a token when the session of the device holding it has expired", async () => {
        const owner = await h.api.logIn({ username: "owner", password: PASSWORD, deviceName: "old phone" });
        await h.api.setPushToken(
          { platform: PushPlatform.WEB_PUSH, webPush: { endpoint: "https://push.example/abandoned", p256dh: "BKey", auth: "c2VjcmV0" } },
          bearer(owner.session!.accessToken),
        );
        const saved = h.clock.now;
        h.clock.now += 86_400_000 + 1_000; // past the harness's refresh lifetime
        try {
          const other = await h.api.logIn({ username: "other", password: PASSWORD, deviceName: "new phone" });
          await h.api.setPushToken(
            { platform: PushPlatform.WEB_PUSH, webPush: { endpoint: "https://push.example/abandoned", p256dh: "BKey2", auth: "c2VjcmV0" } },
            bearer(other.session!.accessToken),
          );
          const targets = await h.internal.getNotificationTargets({ userId: other.profile!.userId });
          const holders = targets.pushTargets.filter((t) => t.webPush?.endpoint === "https://push.example/abandoned");
          assert.deepEqual(
            holders.map((t) => [t.deviceId, t.webPush?.p256dh]),
            [[other.device!.deviceId, "BKey2"]],
          );
        } finally {
          h.clock.now = saved;
        }
      });
      it("gives a token registered by two users at the same moment to exactly one of them", async () => {
        const [a, b] = await Promise.all(["owner", "other"].map((username) => h.api.logIn({ username, password: PASSWORD, deviceName: "racer" })));
        const results = await Promise.allSettled(
          [a!, b!].map((login) => h.api.setPushToken({ platform: PushPlatform.FCM, token: "contested" }, bearer(login.session!.accessToken))),
        );
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
        for (const r of results) if (r.status === "rejected") assert.equal(ConnectError.from(r.reason).code, Code.AlreadyExists);
        const holders = await Promise.all(
          [a!, b!].map(async (login) => (await h.internal.getNotificationTargets({ userId: login.profile!.userId })).pushTargets),
        );
        assert.equal(holders.flat().filter((t) => t.token === "contested").length, 1);
      });
      it("refuses malformed tokens", async () => {
        const login = await h.api.logIn({ username: "tina", password: PASSWORD, deviceName: "x" });
        const auth = bearer(login.session!.accessToken);
        await rejects(h.api.setPushToken({ platform: PushPlatform.APNS, token: "not hex" }, auth), Code.InvalidArgument, /APNs/);
        await rejects(h.api.setPushToken({ platform: PushPlatform.APNS, token: "ab".repeat(8) }, auth), Code.InvalidArgument, /APNs/);
        await rejects(h.api.setPushToken({ platform: PushPlatform.FCM, token: "" }, auth), Code.InvalidArgument, /FCM/);
        await rejects(
          h.api.setPushToken({ platform: PushPlatform.WEB_PUSH, webPush: { endpoint: "http://insecure", p256dh: "a", auth: "b" } }, auth),
          Code.InvalidArgument,
          /https/,
        );
        await rejects(
          h.api.setPushToken({ platform: PushPlatform.WEB_PUSH, webPush: { endpoint: "not a url", p256dh: "a", auth: "b" } }, auth),
          Code.InvalidArgument,
          /web_push.endpoint/,
        );
        await rejects(h.api.setPushToken({ platform: PushPlatform.WEB_PUSH }, auth), Code.InvalidArgument, /web_push is required/);
        await rejects(h.api.setPushToken({ platform: PushPlatform.FCM, token: "t" }), Code.Unauthenticated);
      });
    });
  });
}
