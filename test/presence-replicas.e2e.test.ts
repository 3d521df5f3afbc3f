import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ParleyClient } from "@parley/client";
import { Status, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { Owners } from "@parley/mesh";
import { until } from "@parley/testkit";
import { callApi } from "./support/http-api.js";
import { steadySends } from "./support/steady-sends.js";
import { EtcdMesh } from "./support/etcd-mesh.js";
import type { ServiceProcess } from "./support/process.js";

/** Short leases so a killed instance leaves the registry within seconds (production default: 10 s). */
const LEASE_TTL_SECONDS = 3;
/** Issue 15: with one instance of a service gone, sends keep being acked within 2 s. */
const ACK_GAP_LIMIT_MS = 2_000;
/**
 * A short grace so the offline check takes a second, not thirty; a short heartbeat timeout (devices
 * heartbeat every second here) so a paused instance's sessions are overdue when it resumes.
 */
const PRESENCE_ENV = { PRESENCE_GRACE_MS: "1000", PRESENCE_HEARTBEAT_TIMEOUT_MS: "3000" };
/** Each sender's pause between an ack and its next send (part of every gap between acks). */
const SEND_PAUSE_MS = 100;

interface Account {
  name: string;
  userId: bigint;
  token: string;
}

interface Device extends Account {
  client: ParleyClient;
  /** Message ids in the order the device was shown them. */
  shown: bigint[];
  /** Every presence frame, with when it came. */
  presences: { presence: UserPresence; at: number }[];
}

describe("presence replicas: two presence instances share users by owner, behind two gateways, found through etcd", () => {
  let mesh: EtcdMesh;
  let procs: EtcdMesh["procs"];
  const devices: Device[] = [];
  let accounts = 0;

  before(async () => {
    mesh = await EtcdMesh.open("presrep", { leaseTtlSeconds: LEASE_TTL_SECONDS });
    procs = mesh.procs;
    await mesh.start("account", "account");
    await mesh.start("idgen", "idgen");
    await Promise.all(["p1", "p2"].map((name) => mesh.start("presence", name, PRESENCE_ENV)));
    await mesh.start("chat", "chat", { CHAT_PUSH_ENABLED: "false" });
    await Promise.all(
      [
        ["zone-a", "g1"],
        ["zone-b", "g2"],
      ].map(([zone, id]) => mesh.start("gateway", id!, { ZONE: zone!, GATEWAY_ID: id!, SHUTDOWN_GRACE_MS: "2000", GATEWAY_HEARTBEAT_INTERVAL_MS: "1000" })),
    );
  });

  after(async () => {
    await Promise.all(devices.map((d) => d.client.close()));
    await mesh?.close();
  });

  /** Each user's owner as every process computes it, over the presence instances alive now. */
  const ownerOf = (userId: bigint): ServiceProcess => {
    const live = ["p1", "p2", "p3"].filter((name) => mesh.alive(name)).map((name) => procs[name]!);
    const address = new Owners(live.map((p) => ({ address: new URL(p.url).host, draining: false }))).of(userId);
    return live.find((p) => new URL(p.url).host === address)!;
  };

  /** A new account whose user `owner` owns (sign-ups until one lands there; each lands on either about half the time). */
  async function accountOwnedBy(prefix: string, owner: ServiceProcess): Promise<Account> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const name = `${prefix}_${++accounts}`;
      await callApi(procs.g1!.url, "SignUp", { username: name, password: "correct horse battery" });
      const login = await callApi(procs.g1!.url, "LogIn", { username: name, password: "correct horse battery", deviceName: "phone" });
      const account = { name, userId: BigInt(login.body.profile.userId), token: login.body.session.accessToken as string };
      if (ownerOf(account.userId) === owner) return account;
    }
    throw new Error(`no user owned by ${owner.url} in 40 sign-ups`);
  }

  async function connect(account: Account, gateway: ServiceProcess): Promise<Device> {
    const client = new ParleyClient({ url: gateway.url, token: account.token, backoff: { initialMs: 50, maxMs: 500 } });
    const d: Device = { ...account, client, shown: [], presences: [] };
    client.on("message", (m) => d.shown.push(m.messageId));
    client.on("presence", (presence) => d.presences.push({ presence, at: Date.now() }));
    await client.connect();
    devices.push(d);
    return d;
  }

  async function befriend(a: Account, b: Account): Promise<void> {
    await callApi(procs.g1!.url, "AddFriend", { username: b.name }, a.token);
    await callApi(procs.g1!.url, "AddFriend", { username: a.name }, b.token);
  }

  /** The user's status through getPresence; undefined while presence cannot answer (an instance dead or paused but registered). */
  const presenceOf = async (d: Device, userId: bigint) => (await d.client.getPresence([userId]).catch(() => []))[0]?.status;

  const sees = (d: Device, userId: bigint, status: Status, since = 0) =>
    d.presences.some(({ presence, at }) => presence.userId === userId && presence.status === status && at >= since);

  it("lets friends owned by different instances see each other come online and go offline, live and through getPresence", async () => {
    const ann = await accountOwnedBy("pr_ann", procs.p1!);
    const ben = await accountOwnedBy("pr_ben", procs.p2!);
    await befriend(ann, ben);
    const benDevice = await connect(ben, procs.g2!);
    await until(() => sees(benDevice, ann.userId, Status.OFFLINE), "ben to be told ann is offline when he connects");
    const annDevice = await connect(ann, procs.g1!);
    await until(() => sees(benDevice, ann.userId, Status.ONLINE), "ben to see ann come online (relayed from her owner to his)");
    await until(() => sees(annDevice, ben.userId, Status.ONLINE), "ann to be told ben is online when she connects (asked of his owner)");
    const both = await benDevice.client.getPresence([ann.userId, ben.userId, ann.userId]);
    assert.deepEqual(
      both.map((p) => [p.userId, p.status]),
      [
        [ann.userId, Status.ONLINE],
        [ben.userId, Status.ONLINE],
      ],
      "getPresence asks each owner and keeps the order asked",
    );
    assert.ok(both[0]!.lastActiveAt !== undefined, "a friend sees the last-active time");
    await annDevice.client.close();
    const lastOfAnn = () => benDevice.presences.filter(({ presence }) => presence.userId === ann.userId).at(-1)?.presence.status;
    await until(() => lastOfAnn() === Status.OFFLINE, "ben to see ann go offline");
    const [annNow] = await benDevice.client.getPresence([ann.userId]);
    assert.equal(annNow!.status, Status.OFFLINE);
  });

  it("keeps acking within 2 s and shows each message once when the presence instance owning the senders is SIGSTOPped past its lease", async () => {
    const stopped = procs.p1!;
    const host = new URL(stopped.url).host;
    const pairs = await Promise.all(
      [0, 1].map(
        async (i) =>
          [
            await connect(await accountOwnedBy(`stop_a${i}`, stopped), procs.g1!),
            await connect(await accountOwnedBy(`stop_b${i}`, stopped), procs.g2!),
          ] as const,
      ),
    );
    const dropped = (g: ServiceProcess) => g.output().split(`"address":"${host}"`).length - 1;
    const droppedBefore = [procs.g1!, procs.g2!].map(dropped);
    const traffic = await steadySends(pairs, SEND_PAUSE_MS);
    traffic.fault();
    stopped.child.kill("SIGSTOP");
    try {
      // Silent while still registered, then past its lease: the gateways drop it and the other owns everyone.
      await until(() => [procs.g1!, procs.g2!].every((g, i) => dropped(g) > droppedBefore[i]!), "both gateways to drop the stopped instance", {
        timeoutMs: 20_000,
      });
      await traffic.stop();
    } finally {
      stopped.child.kill("SIGCONT");
    }
    await traffic.check(ACK_GAP_LIMIT_MS);
    await until(() => stopped.output().includes("registered again after losing the lease"), "the resumed instance to register again", { timeoutMs: 15_000 });
  });

  it("keeps acking within 2 s and shows each message once when a presence instance is SIGKILLed, and its users are online again after the lease TTL", async () => {
    const victim = procs.p1!;
    const pairs = await Promise.all(
      [0, 1].map(
        async (i) =>
          [await connect(await accountOwnedBy(`kill_a${i}`, victim), procs.g1!), await connect(await accountOwnedBy(`kill_b${i}`, victim), procs.g2!)] as const,
      ),
    );
    // Carl, owned by the surviving instance, is a friend of the first sender.
    const carl = await connect(await accountOwnedBy("kill_carl", procs.p2!), procs.g2!);
    const watched = pairs[0]![0];
    await befriend(carl, watched);
    // A device follows the friends its user had when it connected: reconnect Carl's.
    await carl.client.close();
    const carlDevice = await connect(carl, procs.g2!);
    await until(() => sees(carlDevice, watched.userId, Status.ONLINE), "carl to see his friend online before the kill");

    const traffic = await steadySends(pairs, SEND_PAUSE_MS);
    const killedAt = traffic.fault();
    await victim.stop("SIGKILL");

    // The surviving instance owns everyone once the dead one's lease ends: the gateways re-share their
    // sessions with it, and it tells Carl his friend is online again (a repeat, never an offline).
    const back = await until(
      async () => {
        return (await presenceOf(carlDevice, watched.userId)) === Status.ONLINE && sees(carlDevice, watched.userId, Status.ONLINE, killedAt) && Date.now();
      },
      "the watched user online again through the surviving instance",
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    const takeoverMs = back - killedAt;
    console.log(`presence takeover: statuses right again ${takeoverMs} ms after the SIGKILL (lease TTL ${LEASE_TTL_SECONDS} s)`);
    assert.ok(!sees(carlDevice, watched.userId, Status.OFFLINE, killedAt), "carl was told his friend went offline");
    await traffic.stop();
    await traffic.check(ACK_GAP_LIMIT_MS);
  });

  it("lets a presence instance paused past its lease tell nobody a false offline when it resumes, and take its users back", async () => {
    const paused = await mesh.start("presence", "p3", PRESENCE_ENV);
    const host = new URL(paused.url).host;
    const dan = await connect(await accountOwnedBy("stop_dan", paused), procs.g1!);
    const erin = await connect(await accountOwnedBy("stop_erin", procs.p2!), procs.g2!);
    await befriend(dan, erin);
    await erin.client.close();
    const erinDevice = await connect(erin, procs.g2!);
    await until(() => sees(erinDevice, dan.userId, Status.ONLINE), "erin to see dan online before the pause");

    const dropped = (g: ServiceProcess) => g.output().split(`"address":"${host}"`).length - 1;
    const droppedBefore = [procs.g1!, procs.g2!].map(dropped);
    paused.child.kill("SIGSTOP");
    let resumedAt: number;
    try {
      // Paused until its lease has ended and the gateways closed their streams to it: its
      // sessions' heartbeats are long overdue by then, and dan is p2's.
      await until(() => [procs.g1!, procs.g2!].every((g, i) => dropped(g) > droppedBefore[i]!), "both gateways to drop the paused instance", {
        timeoutMs: 20_000,
      });
      await until(async () => (await presenceOf(erinDevice, dan.userId)) === Status.ONLINE, "dan online through p2");
    } finally {
      paused.child.kill("SIGCONT");
      resumedAt = Date.now();
    }
    // It registers again, and the gateways give it back its users on new streams.
    await until(() => paused.output().includes("registered again after losing the lease"), "the resumed instance to register again", { timeoutMs: 15_000 });
    await until(
      async () => ownerOf(dan.userId) === paused && (await presenceOf(erinDevice, dan.userId)) === Status.ONLINE,
      "dan online through the resumed instance",
    );
    // Whether the resumed instance's ownership timer runs before or after its registry client
    // re-registers is a race, so its "publishing nothing" log is not asserted; the false
    // offline it guards against is.
    assert.ok(!sees(erinDevice, dan.userId, Status.OFFLINE, resumedAt), "erin was told dan went offline");
  });
});
