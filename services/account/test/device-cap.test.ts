import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { bearer, PASSWORD, rejects, startAccountHarness, type AccountHarness, type StoreKind } from "./harness.js";

const CAP = 2;

for (const kind of ["sqlite", "postgres"] satisfies StoreKind[]) {
  describe(`the device cap per account (${kind}, at most ${CAP} logged in)`, () => {
    let h: AccountHarness;
    before(async () => {
      h = await startAccountHarness(kind, { maxDevices: CAP });
    });
    after(async () => {
      await h?.close();
    });

    const logIn = (username: string, deviceName: string, deviceId?: bigint) =>
      h.api.logIn({ username, password: PASSWORD, deviceName, ...(deviceId !== undefined ? { deviceId } : {}) });
    const loggedIn = async (token: string) =>
      (await h.api.listDevices({}, bearer(token))).devices
        .filter((d) => d.loggedIn)
        .map((d) => d.name)
        .sort();

    it("logs out the least recently used device, not the oldest, when a log-in goes beyond the cap", async () => {
      await h.api.signUp({ username: "lru", password: PASSWORD });
      const phone = await logIn("lru", "phone");
      const laptop = await logIn("lru", "laptop");
      // The phone refreshes its session: now the laptop is the one used least recently.
      const refreshed = await h.api.refreshSession({ refreshToken: phone.session!.refreshToken });
      const evicted: bigint[] = [];
      h.accounts.events.on("deviceLoggedOut", (_user, device) => evicted.push(device));
      const tablet = await logIn("lru", "tablet");
      assert.deepEqual(evicted, [laptop.device!.deviceId]);
      assert.deepEqual(await loggedIn(tablet.session!.accessToken), ["phone", "tablet"]);
      await rejects(h.internal.verifyToken({ accessToken: laptop.session!.accessToken }), Code.Unauthenticated);
      await h.internal.verifyToken({ accessToken: refreshed.session!.accessToken });
      h.accounts.events.removeAllListeners("deviceLoggedOut");
    });

    it("logs nobody out when a known device logs in again at the cap", async () => {
      await h.api.signUp({ username: "again", password: PASSWORD });
      const phone = await logIn("again", "phone");
      const laptop = await logIn("again", "laptop");
      const phoneAgain = await logIn("again", "phone", phone.device!.deviceId);
      assert.deepEqual(await loggedIn(phoneAgain.session!.accessToken), ["laptop", "phone"]);
      await h.internal.verifyToken({ accessToken: laptop.session!.accessToken });
    });

    it("never leaves more devices logged in than the cap after concurrent log-ins", async () => {
      await h.api.signUp({ username: "crowd", password: PASSWORD });
      const logins = await Promise.all(Array.from({ length: 6 }, (_, i) => logIn("crowd", `device ${i}`)));
      // Ask with any token still live (which ones survive depends on the order the log-ins finished in).
      const counts = await Promise.all(
        logins.map((l) =>
          loggedIn(l.session!.accessToken).then(
            (names) => names.length,
            () => undefined,
          ),
        ),
      );
      assert.deepEqual(new Set(counts.filter((c) => c !== undefined)), new Set([CAP]));
      assert.equal(counts.filter((c) => c !== undefined).length, CAP);
    });
  });
}
