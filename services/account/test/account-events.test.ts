import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  DeviceLoggedOutSchema,
  type LogInResponse,
  NotificationTargetsChangedSchema,
  PushPlatform,
  type WatchAccountEventsResponse,
} from "@parley/contracts/parley/account/v1/account";
import { bearer, PASSWORD, rejects, startAccountHarness, type AccountHarness, type StoreKind } from "./harness.js";

const WAIT_MS = 2_000;

/** Polls `condition` until it holds; fails after WAIT_MS. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + WAIT_MS; !condition(); await sleep(5)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
  }
}

const listening = (h: AccountHarness) => h.accounts.events.listenerCount("notificationTargetsChanged") + h.accounts.events.listenerCount("deviceLoggedOut");

/** One WatchAccountEvents call, read one event at a time with a time limit. */
class Watcher {
  private readonly abort = new AbortController();
  private readonly iterator: AsyncIterator<WatchAccountEventsResponse>;
  private pending: Promise<IteratorResult<WatchAccountEventsResponse>>;

  /** Resolves once the server listens: events are not replayed, so a test acting earlier could miss its own. */
  static async open(h: AccountHarness): Promise<Watcher> {
    const before = listening(h);
    const watcher = new Watcher(h);
    await until(() => listening(h) > before, "the server listens");
    return watcher;
  }

  private constructor(h: AccountHarness) {
    this.iterator = h.internal.watchAccountEvents({}, { signal: this.abort.signal })[Symbol.asyncIterator]();
    this.pending = this.iterator.next();
    this.pending.catch(() => {}); // read (and asserted on) by next() or ended(); a closed watcher's rejection is expected
  }

  async next(): Promise<WatchAccountEventsResponse["event"]> {
    const result = await this.within(this.pending, "the next event");
    assert.equal(result.done, false, "the stream ended");
    this.pending = this.iterator.next();
    this.pending.catch(() => {});
    return result.value.event;
  }

  /** Resolves when the stream ends without an error. */
  async ended(): Promise<void> {
    assert.equal((await this.within(this.pending, "the stream ends")).done, true);
  }

  close(): void {
    this.abort.abort();
  }

  private async within<T>(promise: Promise<T>, what: string): Promise<T> {
    const cancel = new AbortController();
    const timer = sleep(WAIT_MS, undefined, { signal: cancel.signal }).then(() => assert.fail(`timed out waiting for ${what}`));
    try {
      return await Promise.race([promise, timer]);
    } finally {
      cancel.abort();
    }
  }
}

const targetsChanged = (userId: bigint) => ({ case: "notificationTargetsChanged", value: create(NotificationTargetsChangedSchema, { userId }) });
const loggedOut = (userId: bigint, deviceId: bigint) => ({ case: "deviceLoggedOut", value: create(DeviceLoggedOutSchema, { userId, deviceId }) });

interface TestUser {
  id: bigint;
  logIn(deviceName: string, deviceId?: bigint): Promise<LogInResponse>;
}

for (const kind of ["pglite", "postgres"] satisfies StoreKind[]) {
  describe(`account events (${kind})`, () => {
    let h: AccountHarness;
    let w: Watcher;
    let una: TestUser;
    let vic: TestUser;
    const signUp = async (username: string): Promise<TestUser> => {
      const { profile } = await h.api.signUp({ username, password: PASSWORD });
      return { id: profile!.userId, logIn: (deviceName, deviceId) => h.api.logIn({ username, password: PASSWORD, deviceName, deviceId }) };
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

    it("delivers device_logged_out, then notification_targets_changed, when a device logs out", async () => {
      const phone = await una.logIn("phone");
      await h.api.logOut({}, bearer(phone.session!.accessToken));
      assert.deepEqual(await w.next(), loggedOut(una.id, phone.device!.deviceId));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
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

    it("tells both users when a token moves from one's device to the other's", async () => {
      const unaPhone = await una.logIn("shared phone");
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "shared-install" }, bearer(unaPhone.session!.accessToken));
      assert.deepEqual(await w.next(), targetsChanged(una.id));
      const vicPhone = await vic.logIn("shared phone");
      await h.api.setPushToken({ platform: PushPlatform.FCM, token: "shared-install" }, bearer(vicPhone.session!.accessToken));
      assert.deepEqual([await w.next(), await w.next()], [targetsChanged(vic.id), targetsChanged(una.id)]);
      assert.deepEqual((await h.internal.getNotificationTargets({ userId: una.id })).pushTargets, []);
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
      await h.api.refreshSession({ refreshToken: tablet.session!.refreshToken });
      await rejects(h.api.refreshSession({ refreshToken: tablet.session!.refreshToken }), Code.Unauthenticated, /already used/);
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
        await h.api.logOut({}, bearer(laptop.session!.accessToken));
        for (const watcher of [w, second]) {
          assert.deepEqual([await watcher.next(), await watcher.next()], [loggedOut(vic.id, laptop.device!.deviceId), targetsChanged(vic.id)]);
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
      await until(() => listening(h) === baseline, "the listeners are removed");
    });

    // Last: after draining, the harness serves no more streams.
    it("ends open streams without an error when the service drains, leaving no listener", async () => {
      h.drain();
      await w.ended();
      await until(() => listening(h) === 0, "the listeners are removed");
    });
  });
}
