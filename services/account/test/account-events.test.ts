import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  DeviceLoggedOutSchema,
  type LogInResponse,
  NotificationTargetsChangedSchema,
  PushPlatform,
  SessionEndReason,
  SessionsEndedSchema,
  type WatchAccountEventsResponse,
} from "@parley/contracts/parley/account/v1/account";
import { until } from "@parley/testkit";
import { bearer, PASSWORD, rejects, startAccountHarness, type AccountHarness, type StoreKind } from "./harness.js";

const listening = (h: AccountHarness) =>
  h.accounts.events.listenerCount("notificationTargetsChanged") +
  h.accounts.events.listenerCount("deviceLoggedOut") +
  h.accounts.events.listenerCount("sessionsEnded");

type AccountEvent = WatchAccountEventsResponse["event"];

/** No user has id 0: events about it are probes that show a watcher is being served. */
const PROBE = 0n;

/** One WatchAccountEvents call over the network, its events queued as they arrive (probes left out). */
class Watcher {
  private readonly abort = new AbortController();
  private readonly queue: AccountEvent[] = [];
  private listening = false;
  private end: { error?: unknown } | undefined;

  /**
   * Resolves once the server listens: events are not replayed, so a test
   * acting earlier could miss its own. Over the network there is no other
   * sign of that than an event coming through, hence the probes.
   */
  static async open(h: AccountHarness): Promise<Watcher> {
    const watcher = new Watcher(h);
    await until(() => {
      if (!watcher.listening) h.accounts.events.emit("notificationTargetsChanged", PROBE);
      return watcher.listening;
    }, "the server to listen");
    return watcher;
  }

  private constructor(h: AccountHarness) {
    void (async () => {
      try {
        for await (const { event } of h.internal.watchAccountEvents({}, { signal: this.abort.signal })) {
          if (event.case === "notificationTargetsChanged" && event.value.userId === PROBE) this.listening = true;
          else this.queue.push(event);
        }
        this.end = {};
      } catch (error) {
        this.end = { error };
      }
    })();
  }

  async next(): Promise<AccountEvent> {
    await until(() => this.queue.length > 0 || this.end !== undefined, "the next event");
    assert.ok(this.queue.length > 0, "the stream ended");
    return this.queue.shift()!;
  }

  /** Resolves when the stream ends without an error; rejects with the error it ended with. */
  async ended(): Promise<void> {
    await until(() => this.end !== undefined, "the stream to end");
    if (this.end?.error !== undefined) throw this.end.error;
  }

  close(): void {
    this.abort.abort();
  }
}

const targetsChanged = (userId: bigint) => ({ case: "notificationTargetsChanged", value: create(NotificationTargetsChangedSchema, { userId }) });
const loggedOut = (userId: bigint, deviceId: bigint) => ({ case: "deviceLoggedOut", value: create(DeviceLoggedOutSchema, { userId, deviceId }) });
const ended = (userId: bigint, sessionIds: bigint[], reason: SessionEndReason) => ({
  case: "sessionsEnded",
  value: create(SessionsEndedSchema, { userId, sessionIds, allSessions: false, reason }),
});

interface TestUser {
  id: bigint;
  logIn(deviceName: string, deviceId?: bigint): Promise<LogInResponse>;
}

for (const kind of ["sqlite", "postgres"] satisfies StoreKind[]) {
  describe(`account events (${kind})`, () => {
    let h: AccountHarness;
    let w: Watcher;
    let una: TestUser;
    let vic: TestUser;
    /** The session a log-in started, as the gateway learns it (internal: clients never see session ids). */
    const sessionOf = async (login: LogInResponse) => (await h.internal.verifyToken({ accessToken: login.session!.accessToken })).sessionId;
    const signUp = async (username: string): Promise<TestUser> => {
      const { profile } = await h.api.signUp({ username, password: PASSWORD });
      return {
        id: profile!.userId,
        logIn: (deviceName, deviceId) => h.api.logIn({ username, password: PASSWORD, deviceName, ...(deviceId !== undefined ? { deviceId } : {}) }),
      };
    };
    before(async () => {
      h = await startAccountHarness(kind);
      una = await signUp("una");
      vic = await signUp("vic");
    });
    after(async () => {
      await h?.close();
    });
    // A watcher per test, so that an event one test misses or adds cannot fail the next.
    beforeEach(async () => {
      w = await Watcher.open(h);
    });
    afterEach(() => {
      w.close();
    });

    it("delivers sessions_ended, device_logged_out, then notification_targets_changed, when a device logs out", async () => {
      const phone = await una.logIn("phone");
      const session = await sessionOf(phone);
      await h.api.logOut({}, bearer(phone.session!.accessToken));
      assert.deepEqual(await w.next(), ended(una.id, [session], SessionEndReason.LOGGED_OUT));
      assert.deepEqual(await w.next(), loggedOut(una.id, phone.device!.deviceId));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
    });

    it("delivers sessions_ended for the replaced session when a device logs in again", async () => {
      const phone = await una.logIn("phone");
      const session = await sessionOf(phone);
      await una.logIn("phone", phone.device!.deviceId);
      assert.deepEqual(await w.next(), ended(una.id, [session], SessionEndReason.REPLACED));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
    });

    it("delivers sessions_ended for every other session, then notification_targets_changed, when the password changes", async () => {
      const wen = await signUp("wen");
      const phone = await wen.logIn("phone");
      const laptop = await wen.logIn("laptop");
      const tablet = await wen.logIn("tablet");
      const others = [await sessionOf(laptop), await sessionOf(tablet)];
      await h.api.changePassword({ currentPassword: PASSWORD, newPassword: "a brand new secret" }, bearer(phone.session!.accessToken));
      assert.deepEqual(await w.next(), ended(wen.id, others, SessionEndReason.PASSWORD_CHANGED));
      assert.deepEqual(await w.next(), targetsChanged(wen.id));
    });

    it("delivers notification_targets_changed when settings or the display name change", async () => {
      const auth = bearer((await una.logIn("phone")).session!.accessToken);
      await h.api.updateSettings({ settings: { previewLength: 80 }, fields: ["preview_length"] }, auth);
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      await h.api.updateProfile({ displayName: "Una U." }, auth);
      assert.deepEqual(await w.next(), targetsChanged(una.id));
    });

    it("delivers notification_targets_changed when a push token is set, cleared or removed as invalid", async () => {
      const phone = await una.logIn("phone");
      const auth = bearer(phone.session!.accessToken);
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "una-fcm-1" }, auth);
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      await h.api.setPushToken({ platform: PushPlatform.UNSPECIFIED }, auth);
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "una-fcm-2" }, auth);
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      await h.internal.removePushToken({ deviceId: phone.device!.deviceId, token: "una-fcm-2" });
      assert.deepEqual(await w.next(), targetsChanged(una.id));
    });

    it("tells both users when a token moves from a device whose session ended to another user's device", async () => {
      const unaPhone = await una.logIn("shared phone");
      const unaSession = await sessionOf(unaPhone);
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "shared-install" }, bearer(unaPhone.session!.accessToken));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      const vicPhone = await vic.logIn("shared phone");
      const vicAuth = bearer(vicPhone.session!.accessToken);
      await rejects(h.api.setPushToken({ platform: PushPlatform.FCM, token: "shared-install" }, vicAuth), Code.AlreadyExists);
      // Una's session ends without a log-out (a replayed refresh token): the token is free.
      await h.api.refreshSession({ refreshToken: unaPhone.session!.refreshToken });
      await rejects(h.api.refreshSession({ refreshToken: unaPhone.session!.refreshToken }), Code.Unauthenticated);
      assert.deepEqual(await w.next(), ended(una.id, [unaSession], SessionEndReason.REVOKED));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "shared-install" }, vicAuth);
      assert.deepEqual([await w.next(), await w.next()], [targetsChanged(vic.id), targetsChanged(una.id)]);
      assert.deepEqual(
        (await h.internal.getNotificationTargets({ userId: vic.id })).pushTargets.map((t) => t.token),
        ["shared-install"],
      );
    });

    it("stays silent for a refused change and for an invalid-token report that comes too late", async () => {
      const phone = await una.logIn("phone");
      const auth = bearer(phone.session!.accessToken);
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "una-current" }, auth);
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      await rejects(h.api.updateSettings({ settings: { previewLength: 501 }, fields: ["preview_length"] }, auth), Code.InvalidArgument);
      await rejects(h.api.setPushToken({ platform: PushPlatform.APNS, token: "not hex" }, auth), Code.InvalidArgument);
      await h.internal.removePushToken({ deviceId: phone.device!.deviceId, token: "una-stale" });
      // A change of another user's marks the end: had Una's calls emitted, their events would come first.
      await h.api.updateProfile({ displayName: "Vic" }, bearer((await vic.logIn("laptop")).session!.accessToken));
      assert.deepEqual(await w.next(), targetsChanged(vic.id));
    });

    it("announces a device dropping out of the targets when its session is revoked for a replayed refresh token, and coming back at its next log-in", async () => {
      const tablet = await una.logIn("tablet");
      const deviceId = tablet.device!.deviceId;
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "una-tablet" }, bearer(tablet.session!.accessToken));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      const session = await sessionOf(tablet);
      await h.api.refreshSession({ refreshToken: tablet.session!.refreshToken });
      await rejects(h.api.refreshSession({ refreshToken: tablet.session!.refreshToken }), Code.Unauthenticated, /already used/);
      assert.deepEqual(await w.next(), ended(una.id, [session], SessionEndReason.REVOKED));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      const deviceIds = async () => (await h.internal.getNotificationTargets({ userId: una.id })).pushTargets.map((t) => t.deviceId);
      assert.ok(!(await deviceIds()).includes(deviceId));
      await una.logIn("tablet", deviceId);
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      assert.ok((await deviceIds()).includes(deviceId));
    });

    it("delivers every event to every open watcher", async () => {
      const second = await Watcher.open(h);
      try {
        const laptop = await vic.logIn("laptop");
        const session = await sessionOf(laptop);
        await h.api.logOut({}, bearer(laptop.session!.accessToken));
        for (const watcher of [w, second]) {
          assert.deepEqual(
            [await watcher.next(), await watcher.next(), await watcher.next()],
            [ended(vic.id, [session], SessionEndReason.LOGGED_OUT), loggedOut(vic.id, laptop.device!.deviceId), targetsChanged(vic.id)],
          );
        }
      } finally {
        second.close();
      }
    });

    it("removes its listeners when the watcher goes away", async () => {
      const baseline = listening(h);
      const extra = await Watcher.open(h);
      extra.close();
      await assert.rejects(extra.ended(), (err: unknown) => ConnectError.from(err).code === Code.Canceled);
      await until(() => listening(h) === baseline, "the listeners to be removed");
    });

    // Last: after draining, the harness serves no more streams.
    it("ends open streams without an error when the service drains, leaving no listener", async () => {
      h.drain();
      await w.ended();
      await until(() => listening(h) === 0, "the listeners to be removed");
    });
  });
}
