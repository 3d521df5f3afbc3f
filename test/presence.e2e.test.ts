import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ParleyClient } from "@parley/client";
import { Status, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { FakeClock, until } from "@parley/testkit";
import { callApi } from "./support/http-api.js";
import { startParley, type EmbeddedParley, type LoggedIn } from "./support/embedded.js";
import { connectDevice, type Device } from "./support/sdk.js";

/** A device plus every presence frame it got. */
async function watcher(p: EmbeddedParley, token: string): Promise<Device & { presences: UserPresence[] }> {
  const device = await connectDevice(p.url, token);
  const presences: UserPresence[] = [];
  device.client.on("presence", (presence) => presences.push(presence));
  return Object.assign(device, { presences });
}

describe("presence end to end (embedded mode, real sockets, fake presence clock)", () => {
  let p: EmbeddedParley;
  const time = new FakeClock(Date.UTC(2026, 10, 22, 12));
  const clients: ParleyClient[] = [];
  const befriend = async (a: { token: string; userId: bigint }, b: { token: string; userId: bigint }) => {
    await callApi(p.url, "AddFriend", { userId: String(b.userId) }, a.token);
    await callApi(p.url, "AddFriend", { userId: String(a.userId) }, b.token);
  };
  const track = <T extends { client: ParleyClient }>(d: T) => {
    clients.push(d.client);
    return d;
  };
  let markerCount = 0;
  /**
   * Barriers for `user`'s watcher device: each connects one more of the user's friends
   * and waits until the watcher sees them online. Presence takes a gateway's session
   * events in order and tells a watcher of its changes in the order it made them, so
   * after a barrier it has handled every drop or reconnect before, and the watcher holds
   * every change made before (such as an offline when a grace period ended). The friends
   * are made here, before the watcher connects: a device follows the friends its user
   * had when it connected.
   */
  const barriers = async (user: { token: string; userId: bigint }, count: number) => {
    const markers: LoggedIn[] = [];
    for (let i = 0; i < count; i++) {
      const marker = await p.user(`pr_marker_${++markerCount}`);
      await befriend(user, marker);
      markers.push(marker);
    }
    return async (watching: { presences: UserPresence[] }) => {
      const marker = markers.shift()!;
      track(await connectDevice(p.url, marker.token));
      await until(() => watching.presences.some((x) => x.userId === marker.userId && x.status === Status.ONLINE), "the watcher to see the marker online");
    };
  };

  before(async () => {
    // Heartbeats arrive in real time while this test jumps the presence clock, so the
    // heartbeat timeout is set out of reach here (the tracker's unit tests cover it).
    p = await startParley({ PRESENCE_GRACE_MS: "30000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "600000" }, { presenceTime: time });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await p?.close();
  });

  it("shows a friend coming online, and gives a connecting device its friends' status", async () => {
    const ann = await p.user("pr_ann");
    const ben = await p.user("pr_ben");
    await befriend(ann, ben);
    const benDevice = track(await watcher(p, ben.token));
    await until(() => benDevice.presences.some((x) => x.userId === ann.userId), "ben to learn ann's status");
    assert.equal(benDevice.presences.at(-1)!.status, Status.OFFLINE, "ann is offline before she connects");
    const annDevice = track(await watcher(p, ann.token));
    await until(() => benDevice.presences.some((x) => x.userId === ann.userId && x.status === Status.ONLINE), "ben to see ann online");
    await until(() => annDevice.presences.some((x) => x.userId === ben.userId && x.status === Status.ONLINE), "ann to see ben online");
  });

  it("emits nothing when a device drops and reconnects within the grace period", async () => {
    const cat = await p.user("pr_cat");
    const dan = await p.user("pr_dan");
    await befriend(cat, dan);
    const barrier = await barriers(dan, 3);
    const danDevice = track(await watcher(p, dan.token));
    const first = await watcher(p, cat.token);
    await until(() => danDevice.presences.some((x) => x.userId === cat.userId && x.status === Status.ONLINE), "dan to see cat online");
    const seen = danDevice.presences.length;
    await first.client.close();
    await barrier(danDevice); // presence has the drop
    time.advance(10_000);
    track(await watcher(p, (await p.logIn("pr_cat", "phone")).token));
    await barrier(danDevice); // and the reconnect
    time.advance(40_000);
    await barrier(danDevice); // dan holds whatever the jump past the grace period emitted
    assert.deepEqual(
      danDevice.presences.slice(seen).filter((x) => x.userId === cat.userId),
      [],
      "no offline/online flapping",
    );
  });

  it("turns a user offline after the grace period, with the last-active time of the drop", async () => {
    const eve = await p.user("pr_eve");
    const fay = await p.user("pr_fay");
    await befriend(eve, fay);
    const barrier = await barriers(fay, 2);
    const fayDevice = track(await watcher(p, fay.token));
    const eveDevice = await watcher(p, eve.token);
    await until(() => fayDevice.presences.some((x) => x.userId === eve.userId && x.status === Status.ONLINE), "fay to see eve online");
    const droppedAt = time.now();
    const since = fayDevice.presences.length; // the snapshot at fay's connect said eve was offline
    const later = () => fayDevice.presences.slice(since).filter((x) => x.userId === eve.userId);
    await eveDevice.client.close();
    await barrier(fayDevice); // presence has the drop, at droppedAt
    time.advance(29_000);
    await barrier(fayDevice);
    assert.deepEqual(later(), [], "still online inside the grace period");
    time.advance(2_000);
    await until(() => later().some((x) => x.status === Status.OFFLINE), "offline after the grace period");
    const offline = later().find((x) => x.status === Status.OFFLINE)!;
    assert.equal(Number(offline.lastActiveAt!.seconds), Math.floor(droppedAt / 1000));
  });

  it("keeps a user online while one of two devices stays", async () => {
    const gus = await p.user("pr_gus", "phone");
    const hal = await p.user("pr_hal");
    await befriend(gus, hal);
    const barrier = await barriers(hal, 2);
    const halDevice = track(await watcher(p, hal.token));
    const phone = await watcher(p, gus.token);
    track(await watcher(p, (await p.logIn("pr_gus", "laptop")).token));
    await until(() => halDevice.presences.some((x) => x.userId === gus.userId && x.status === Status.ONLINE), "hal to see gus online");
    const since = halDevice.presences.length;
    await phone.client.close();
    await barrier(halDevice); // presence has the phone's drop
    time.advance(31_000);
    await barrier(halDevice);
    const [status] = await halDevice.client.getPresence([gus.userId]);
    assert.equal(status!.status, Status.ONLINE);
    assert.deepEqual(
      halDevice.presences.slice(since).filter((x) => x.userId === gus.userId),
      [],
      "no offline while the laptop stays",
    );
  });

  it("hides a user who hides their presence, from friends and everyone else", async () => {
    const ivy = await p.user("pr_ivy");
    const jon = await p.user("pr_jon");
    await befriend(ivy, jon);
    await callApi(p.url, "UpdateSettings", { settings: { hidePresence: true }, fields: ["hide_presence"] }, ivy.token);
    const barrier = await barriers(jon, 1);
    const jonDevice = track(await watcher(p, jon.token));
    track(await watcher(p, ivy.token));
    await barrier(jonDevice); // an update for ivy's connect would have come first
    assert.ok(!jonDevice.presences.some((x) => x.userId === ivy.userId && x.status === Status.ONLINE), "no live update");
    const [status] = await jonDevice.client.getPresence([ivy.userId]);
    assert.equal(status!.status, Status.OFFLINE);
    assert.equal(status!.lastActiveAt, undefined);
  });

  it("answers GetPresence for non-friends without last-active times, and refuses over 200 users", async () => {
    const kim = await p.user("pr_kim");
    const leo = await p.user("pr_leo");
    const kimDevice = track(await watcher(p, kim.token));
    track(await watcher(p, leo.token));
    await until(async () => (await kimDevice.client.getPresence([leo.userId]))[0]!.status === Status.ONLINE, "presence to see leo online");
    const [status] = await kimDevice.client.getPresence([leo.userId]);
    assert.equal(status!.status, Status.ONLINE);
    assert.equal(status!.lastActiveAt, undefined, "a stranger's last-active time stays private");
    await assert.rejects(kimDevice.client.getPresence(Array.from({ length: 201 }, (_, i) => BigInt(i + 1))), (err: unknown) => {
      assert.equal((err as { code: string }).code, "INVALID_ARGUMENT");
      assert.match((err as Error).message, /200/);
      return true;
    });
  });

  it("delivers typing to the other members only, drops floods, and refuses non-members", async () => {
    const max = await p.user("pr_max");
    const ned = await p.user("pr_ned");
    const out = await p.user("pr_out");
    const maxDevice = track(await watcher(p, max.token));
    const nedDevice = track(await watcher(p, ned.token));
    const outsider = track(await watcher(p, out.token));
    const typings: bigint[] = [];
    nedDevice.client.on("typing", (t) => typings.push(t.userId));
    const outsiderTypings: bigint[] = [];
    outsider.client.on("typing", (t) => outsiderTypings.push(t.userId));
    const conversation = await maxDevice.client.openDirect(ned.userId);
    // At once: the flood must fall inside chat's one-second window however slow the machine is.
    await Promise.all(Array.from({ length: 10 }, () => maxDevice.client.setTyping(conversation.conversationId, true)));
    // Markers behind the flood: typing events and messages reach a user in the order they
    // were published, so once ned and the outsider have a message sent after it, every
    // typing event of the flood that was to reach them has arrived.
    await maxDevice.client.send(conversation.conversationId, "marker");
    await maxDevice.client.send((await maxDevice.client.openDirect(out.userId)).conversationId, "marker");
    await Promise.all([nedDevice.received(1), outsider.received(1)]);
    assert.deepEqual(typings, [max.userId], "a flood of typing events arrives as one");
    assert.deepEqual(outsiderTypings, []);
    await assert.rejects(
      outsider.client.setTyping(conversation.conversationId, true),
      (err: unknown) => (err as { code: string }).code === "PERMISSION_DENIED",
    );
  });
});
