import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { Channel, DeliveryState, Kind, NotifyService } from "@parley/contracts/parley/notify/v1/notify";
import type { RecordedSend, RecordingProvider } from "@parley/notify";
import { SERVICE_TOKEN_HEADER } from "@parley/runtime";
import { createThrowawayDatabase, testCredentials, until, type ThrowawayDatabase } from "@parley/testkit";
import { startFakeSmsGateway } from "../services/notify/test/stand-ins/sms.js";
import { callApi } from "./support/http-api.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { runToExit, startProcess, type ServiceProcess } from "./support/process.js";
import { connectDevice, type Device } from "./support/sdk.js";

describe("push for offline users (embedded, recording provider)", () => {
  let p: EmbeddedParley;
  let fcm: RecordingProvider;
  const devices: Device[] = [];
  const pushesTo = (token: string): RecordedSend[] => fcm.sent.filter((s) => s.target.channel === "fcm" && s.target.token === token);

  before(async () => {
    p = await startParley();
    fcm = p.parley.notify.providers.get("fcm") as RecordingProvider;
  });
  after(async () => {
    for (const d of devices) await d.client.close();
    await p.close();
  });

  async function userWithPushDevices(name: string, count: number): Promise<{ userId: bigint; tokens: string[]; accessTokens: string[] }> {
    const tokens: string[] = [];
    const accessTokens: string[] = [];
    let userId = 0n;
    for (let n = 1; n <= count; n++) {
      const session = n === 1 ? await p.user(name, `phone ${n}`) : await p.logIn(name, `phone ${n}`);
      userId = session.userId;
      const token = `fcm-${name}-${n}`;
      const res = await callApi(p.url, "SetPushToken", { platform: "PUSH_PLATFORM_FCM", token }, session.token);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      tokens.push(token);
      accessTokens.push(session.token);
    }
    return { userId, tokens, accessTokens };
  }

  it("pushes a message to each device of an offline recipient, once, with sender, preview, collapse key and unread badge", async () => {
    const alice = await p.user("alice");
    const bob = await userWithPushDevices("bob", 2);
    const sender = await connectDevice(p.url, alice.token);
    devices.push(sender);
    const conversation = await sender.client.openDirect(bob.userId);
    await sender.client.send(conversation.conversationId, "see you at 6");
    await until(() => bob.tokens.every((t) => pushesTo(t).length === 1), "one push per device");
    const [push] = pushesTo(bob.tokens[0]!);
    assert.equal(push!.content.title, "alice");
    assert.equal(push!.content.body, "see you at 6");
    assert.equal(push!.content.data.conversation_id, conversation.conversationId.toString());
    assert.equal(push!.content.collapseKey, `conversation:${conversation.conversationId}`);
    assert.equal(push!.content.badge, 1);

    await sender.client.send(conversation.conversationId, "and bring the map");
    await until(() => bob.tokens.every((t) => pushesTo(t).length === 2), "the second push");
    const second = pushesTo(bob.tokens[1]!)[1]!;
    assert.equal(second.content.badge, 2);
    assert.equal(second.content.collapseKey, push!.content.collapseKey, "a burst in one conversation replaces one notification");
  });

  it("does not push to a recipient with a connected device, and does not push the sender", async () => {
    const carol = await p.user("carol");
    const dave = await userWithPushDevices("dave", 1);
    const daveOnline = await connectDevice(p.url, dave.accessTokens[0]!);
    const sender = await connectDevice(p.url, carol.token);
    devices.push(daveOnline, sender);
    const conversation = await sender.client.openDirect(dave.userId);
    await sender.client.send(conversation.conversationId, "are you there?");
    await daveOnline.received(1);
    // The delivery worker decides per entry: delivered live means no hand-off was made.
    // Markers prove it. Once presence sees dave offline, a marker from someone else is
    // pushed; it comes after the first message in dave's ordered entries and behind any
    // hand-off made for it (another conversation, so it replaces none).
    await daveOnline.client.close();
    const marker = await connectDevice(p.url, (await p.user("dave_marker")).token);
    devices.push(marker);
    const toDave = (await marker.client.openDirect(dave.userId)).conversationId;
    await until(
      async () => {
        await marker.client.send(toDave, "marker"); // delivered live, and not pushed, while presence still holds dave's device
        return pushesTo(dave.tokens[0]!).length > 0;
      },
      "a marker pushed to dave once he is offline",
      { intervalMs: 100 },
    );
    assert.deepEqual(
      pushesTo(dave.tokens[0]!).map((push) => push.content.body),
      pushesTo(dave.tokens[0]!).map(() => "marker"),
      "only markers were pushed: none for the message delivered live",
    );
    assert.equal(fcm.sent.filter((s) => s.content.title === "carol" && s.target.channel === "fcm" && s.target.token.startsWith("fcm-carol")).length, 0);
  });

  it("tells an offline user who added them to a group, on creation and later, and not the one who added", async () => {
    const gina = await p.user("gina");
    const hank = await userWithPushDevices("hank", 1);
    const ivy = await userWithPushDevices("ivy", 1);
    const owner = await connectDevice(p.url, gina.token);
    devices.push(owner);
    const group = await owner.client.createGroup("trip", [hank.userId]);
    await until(() => pushesTo(hank.tokens[0]!).length === 1, "hank's added-to-group push");
    const [created] = pushesTo(hank.tokens[0]!);
    assert.deepEqual([created!.content.title, created!.content.body, created!.content.data.kind], ["trip", "gina added you to trip", "added_to_group"]);
    assert.equal(created!.content.data.conversation_id, group.conversationId.toString());

    await owner.client.addMembers(group.conversationId, [ivy.userId]);
    await until(() => pushesTo(ivy.tokens[0]!).length === 1, "ivy's added-to-group push");
    assert.equal(pushesTo(ivy.tokens[0]!)[0]!.content.body, "gina added you to trip");
    // Hank saw the addition as a member, not as the one added: no push for it.
    await owner.client.send(group.conversationId, "welcome");
    await until(() => pushesTo(hank.tokens[0]!).length === 2, "hank's push for the message");
    assert.equal(pushesTo(hank.tokens[0]!)[1]!.content.body, "welcome");
  });

  it("respects the recipient's mute and preview settings", async () => {
    const erin = await p.user("erin");
    const frank = await userWithPushDevices("frank", 1);
    const sender = await connectDevice(p.url, erin.token);
    devices.push(sender);
    const conversation = await sender.client.openDirect(frank.userId);
    const hide = await callApi(p.url, "UpdateSettings", { settings: { showPreviews: false }, fields: ["show_previews"] }, frank.accessTokens[0]);
    assert.equal(hide.status, 200, JSON.stringify(hide.body));
    await sender.client.send(conversation.conversationId, "secret plans");
    await until(() => pushesTo(frank.tokens[0]!).length === 1, "the push without preview");
    assert.equal(pushesTo(frank.tokens[0]!)[0]!.content.body, "New message");

    const mute = await callApi(
      p.url,
      "UpdateSettings",
      { settings: { mutedConversationIds: [conversation.conversationId.toString()] }, fields: ["muted_conversation_ids"] },
      frank.accessTokens[0],
    );
    assert.equal(mute.status, 200, JSON.stringify(mute.body));
    await sender.client.send(conversation.conversationId, "muted now");
    await until(async () => (await p.parley.notify.notifications.listForUser(frank.userId, 10)).length === 2, "the muted notification");
    const [latest] = await p.parley.notify.notifications.listForUser(frank.userId, 1);
    assert.deepEqual(
      latest!.deliveries.map((d) => [d.state, d.lastError]),
      [["skipped", "conversation muted"]],
    );
    assert.equal(pushesTo(frank.tokens[0]!).length, 1);
  });
});

describe("notify as its own process", () => {
  const credentials = testCredentials();
  let database: ThrowawayDatabase;
  let sms: Awaited<ReturnType<typeof startFakeSmsGateway>>;
  let account: ServiceProcess;
  let notify: ServiceProcess | undefined;

  const notifyEnv = () => ({
    ...credentials.env("notify"),
    NOTIFY_PORT: "0",
    DATABASE_URL: database.url,
    ACCOUNT_ADDRESS: account.url,
    SMS_API_URL: sms.url,
    SMS_API_TOKEN: "sms-token",
    NOTIFY_RETRY_BASE_MS: "100",
    NOTIFY_RETRY_MAX_MS: "300",
    NOTIFY_MAX_ATTEMPTS: "100",
    NOTIFY_LEASE_MS: "1500",
    NOTIFY_POLL_MS: "50",
  });
  /** An internal app sending and following its notifications. */
  const client = (url: string) => createClient(NotifyService, credentials.plane("app:test").transport(new URL(url).host, "notify"));
  /** Calls the account service's public API directly, as a gateway would. */
  const accountApi = async (method: string, body: unknown, token?: string) =>
    callApi(account.url, method, body, token, { [SERVICE_TOKEN_HEADER]: await credentials.plane("gateway").token("account") });

  before(async () => {
    database = await createThrowawayDatabase("parley_notify_e2e");
    sms = await startFakeSmsGateway();
    account = await startProcess(
      "services/account/src/main.ts",
      {
        ...credentials.env("account"),
        ACCOUNT_PORT: "0",
        DATABASE_URL: database.url,
        ACCOUNT_TOKEN_SECRET: Buffer.alloc(32, 3).toString("base64url"),
        ACCOUNT_SCRYPT_LOG_N: "10",
      },
      "account service listening",
    );
  });
  after(async () => {
    await Promise.all([notify, account].map((p) => p?.stop("SIGKILL")));
    sms.server.closeAllConnections();
    await new Promise((resolve) => sms.server.close(resolve));
    await database?.drop();
    credentials.close();
  });

  it("refuses to start without its service key or with a provider configured halfway, naming the variables", async () => {
    const { SERVICE_KEY_FILE: _, ...noKey }: Record<string, string> = notifyEnv();
    const missing = await runToExit("services/notify/src/main.ts", noKey);
    assert.equal(missing.code, 1);
    assert.match(missing.output, /SERVICE_KEY_FILE: is required/);
    const half = await runToExit("services/notify/src/main.ts", { ...notifyEnv(), APNS_TEAM_ID: "TEAM123456" });
    assert.equal(half.code, 1);
    assert.match(half.output, /APNS_KEY_ID, APNS_PRIVATE_KEY, APNS_TOPIC: required with APNS_TEAM_ID/);
  });

  it("delivers every pending job once after being killed mid-retry and restarted", async () => {
    await accountApi("SignUp", { username: "grace", password: "correct horse battery" });
    const login = await accountApi("LogIn", { username: "grace", password: "correct horse battery", deviceName: "phone" });
    const token = login.body.session.accessToken as string;
    const userId = BigInt(login.body.profile.userId);
    const settings = await accountApi("UpdateSettings", { settings: { phone: "+15550100123", smsEnabled: true }, fields: ["phone", "sms_enabled"] }, token);
    assert.equal(settings.status, 200, JSON.stringify(settings.body));

    sms.reply = { status: 503 };
    notify = await startProcess("services/notify/src/main.ts", notifyEnv(), "notify service listening");
    const first = client(notify.url);
    const ids: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await first.send({ eventId: `crash-${i}`, userId, kind: Kind.FRIEND_REQUEST, params: { from_name: `friend${i}` }, channels: [Channel.SMS] });
      ids.push(res.notificationId);
    }
    await until(() => new Set(sms.seen.map((s) => JSON.parse(s.body).body)).size === 5, "every job to be tried and fail");
    await notify.stop("SIGKILL");
    // Only now does the provider recover: every request it answers with success comes from the restarted process.
    const failedBefore = sms.seen.length;
    sms.reply = { status: 201 };
    notify = await startProcess("services/notify/src/main.ts", notifyEnv(), "notify service listening");
    const second = client(notify.url);
    await until(async () => {
      const states = await Promise.all(ids.map(async (id) => (await second.getNotification({ notificationId: id })).notification!.deliveries[0]!.state));
      return states.every((s) => s === DeliveryState.SENT);
    }, "all five to be sent after the restart");
    const delivered = sms.seen
      .slice(failedBefore)
      .map((s) => JSON.parse(s.body).body as string)
      .sort();
    assert.deepEqual(
      delivered,
      [0, 1, 2, 3, 4].map((i) => `Friend request: friend${i} wants to be your friend`),
    );
    const again = await second.send({ eventId: "crash-0", userId, kind: Kind.FRIEND_REQUEST, params: { from_name: "friend0" }, channels: [Channel.SMS] });
    assert.equal(again.duplicate, true);
  });
});
