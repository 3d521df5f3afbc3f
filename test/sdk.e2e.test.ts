import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AuthenticationError, ClientClosedError, ConnectionClosedError, ParleyClient, wsPackageSocketFrom, type DisconnectInfo } from "@parley/client";
import { sampleSum, until } from "@parley/testkit";
import { callApi } from "./support/http-api.js";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { RawSocket } from "./support/raw-socket.js";
import { scrape } from "./support/metrics.js";
import { connectDevice } from "./support/sdk.js";

/** The SDK's reconnect, authentication and cursor behaviour against the real gateway (embedded mode). */
describe("client SDK against the real gateway", () => {
  let p: EmbeddedParley;
  before(async () => {
    p = await startParley({ GATEWAY_HEARTBEAT_INTERVAL_MS: "1000" });
  });
  after(() => p?.close());
  const ws = () => p.url.replace(/^http/, "ws");

  it("keeps the connection alive with heartbeats past the server's silence timeout", async () => {
    const user = await p.user("beater");
    // The gateway's dead-connection sweep runs every interval and ends by pinging every
    // socket: a second socket counts the sweeps.
    const counter = await RawSocket.open(p.wsUrl, (await p.user("sweep_counter")).token);
    let sweeps = 0;
    counter.ws.on("ping", () => sweeps++);
    const device = await connectDevice(p.url, user.token);
    const disconnects: number[] = [];
    device.client.on("disconnected", (info) => disconnects.push(info.code));
    const from = sweeps;
    // The fourth sweep after the connect comes more than three intervals after it: past the silence timeout.
    await until(() => sweeps >= from + 4, "four sweeps of the gateway's dead-connection check");
    // A round trip on the device's socket: a close from those sweeps would have come before its answer.
    await device.client.getPresence([user.userId]);
    assert.deepEqual(disconnects, []);
    assert.equal(device.client.state, "open");
    await device.client.close();
    counter.close();
  });

  it("after a log-out (4101) gets a new token from getToken, reconnects and syncs what it missed", async () => {
    const a = await p.user("tok_a");
    const b = await p.user("tok_b");
    const alice = await connectDevice(p.url, a.token);
    const conversation = await alice.client.openDirect(b.userId);
    let current = b.token;
    const reasons: string[] = [];
    const bob = new ParleyClient({
      url: ws(),
      getToken: async (reason) => {
        reasons.push(reason);
        if (reason === "refused") current = (await p.logIn("tok_b", "phone")).token;
        return current;
      },
      backoff: { initialMs: 20, maxMs: 200 },
    });
    const seen: string[] = [];
    bob.on("message", (m) => seen.push(m.text));
    await bob.connect();
    await alice.client.send(conversation.conversationId, "before");
    await until(() => seen.length === 1, "the first message");
    const old = current;
    await callApi(p.url, "LogOut", {}, old); // closes bob's socket with 4101
    await alice.client.send(conversation.conversationId, "while away");
    await until(() => seen.length === 2, "the message sent while bob was away");
    assert.deepEqual(seen, ["before", "while away"]);
    assert.ok(reasons.includes("refused"), `getToken was asked for a fresh token (${reasons.join(",")})`);
    assert.notEqual(current, old);
    await Promise.all([alice.client.close(), bob.close()]);
  });

  it("after its password changed elsewhere (4103) asks getToken for a fresh token, and stops when there is none", async () => {
    const phone = await p.user("pw_owner", "phone");
    const laptop = await p.logIn("pw_owner", "laptop");
    const reasons: string[] = [];
    const client = new ParleyClient({
      url: ws(),
      getToken: (reason) => {
        reasons.push(reason);
        if (reason === "refused") throw new Error("the refresh failed: log in again"); // what an app does when RefreshSession is refused
        return laptop.token;
      },
      backoff: { initialMs: 20, maxMs: 200 },
    });
    const disconnects: number[] = [];
    const errors: unknown[] = [];
    client.on("disconnected", (info) => disconnects.push(info.code));
    client.on("error", (err) => errors.push(err));
    await client.connect();
    const changed = await callApi(p.url, "ChangePassword", { currentPassword: "correct horse battery", newPassword: "a brand new secret" }, phone.token);
    assert.equal(changed.status, 200);
    await until(() => client.state === "stopped", "the client to stop");
    assert.deepEqual(disconnects, [4103]);
    assert.deepEqual(reasons, ["connect", "refused"]);
    assert.ok(errors.some((err) => err instanceof AuthenticationError));
    await client.close();
  });

  it("stops with an AuthenticationError when the token is refused and there is no getToken", async () => {
    const client = new ParleyClient({ url: ws(), token: "not-a-token", backoff: { initialMs: 10, maxMs: 50 } });
    await assert.rejects(client.connect(), (err: unknown) => err instanceof AuthenticationError);
    await client.close();
  });

  /** Upgrades the gateway refused with this outcome so far (parley_gateway_connects_total), to count the SDK's attempts at the server. */
  const refusedUpgrades = async (outcome: string) => sampleSum(await scrape(p.url), "parley_gateway_connects_total", { outcome });
  /** Several backoff windows of the clients below (50 ms at most): any retry would have been made by then. */
  const BACKOFF_WINDOWS_MS = 500;

  it("reports origin_refused for a page origin outside the allowlist and makes no further attempt", async () => {
    const user = await p.user("foreign_page");
    const before = await refusedUpgrades("forbidden");
    const client = new ParleyClient({
      url: ws(),
      token: user.token,
      socketFactory: wsPackageSocketFrom("https://evil.example"),
      backoff: { initialMs: 10, maxMs: 50 },
    });
    const disconnects: DisconnectInfo[] = [];
    client.on("disconnected", (info) => disconnects.push(info));
    await assert.rejects(client.connect(), (err: unknown) => {
      assert.ok(err instanceof ConnectionClosedError);
      assert.equal(err.refusal, "origin_refused");
      assert.equal(err.retryable, false);
      assert.match(err.message, /origin not allowed/);
      return true;
    });
    assert.equal(client.state, "stopped");
    await sleep(BACKOFF_WINDOWS_MS);
    assert.equal((await refusedUpgrades("forbidden")) - before, 1, "one upgrade attempt, never retried");
    assert.deepEqual(
      disconnects.map((d) => [d.httpStatus, d.refusal, d.action, d.reason]),
      [[403, "origin_refused", "stop", "origin not allowed"]],
    );
    await client.close();
  });

  it("reports unauthenticated and stops when getToken gives back the token just refused", async () => {
    const before = await refusedUpgrades("unauthenticated");
    const reasons: string[] = [];
    const client = new ParleyClient({
      url: ws(),
      getToken: (reason) => {
        reasons.push(reason);
        return "not-a-token";
      },
      backoff: { initialMs: 10, maxMs: 50 },
    });
    const disconnects: DisconnectInfo[] = [];
    client.on("disconnected", (info) => disconnects.push(info));
    await assert.rejects(client.connect(), (err: unknown) => err instanceof AuthenticationError);
    assert.equal(client.state, "stopped");
    await sleep(BACKOFF_WINDOWS_MS);
    assert.equal((await refusedUpgrades("unauthenticated")) - before, 1, "one upgrade attempt, never retried");
    assert.deepEqual(reasons, ["connect", "refused"]);
    assert.deepEqual(
      disconnects.map((d) => [d.httpStatus, d.refusal]),
      [[401, "unauthenticated"]],
    );
    await client.close();
  });

  it("resumes from a persisted cursor without redelivering, or from the server's cursor when told to", async () => {
    const a = await p.user("cur_a");
    const b = await p.user("cur_b");
    const alice = await connectDevice(p.url, a.token);
    const conversation = await alice.client.openDirect(b.userId);
    for (let i = 0; i < 5; i++) await alice.client.send(conversation.conversationId, `first ${i}`);
    const bob = await connectDevice(p.url, b.token);
    await bob.received(5);
    await until(() => bob.client.cursor === 5n, "bob's cursor at 5");
    await bob.client.close(); // acknowledges the cursor on the way out
    for (let i = 0; i < 3; i++) await alice.client.send(conversation.conversationId, `second ${i}`);

    const persisted = new ParleyClient({ url: ws(), token: b.token, cursor: 5n });
    const fromPersisted: string[] = [];
    persisted.on("message", (m) => fromPersisted.push(m.text));
    await persisted.connect();
    await until(() => fromPersisted.length === 3, "the 3 messages after the persisted cursor");
    await persisted.close();
    assert.deepEqual(fromPersisted, ["second 0", "second 1", "second 2"]);

    const fresh = new ParleyClient({ url: ws(), token: b.token, startFrom: "server" });
    const fromServer: string[] = [];
    fresh.on("message", (m) => fromServer.push(m.text));
    const welcome = await fresh.connect();
    assert.equal(welcome.cursorSeq, 8n, "the server kept the device's cursor");
    await fresh.sync();
    assert.deepEqual(fromServer, [], "nothing above the server's cursor");
    await Promise.all([fresh.close(), alice.client.close()]);
  });

  it("refuses new work after close and fails what was pending", async () => {
    const user = await p.user("closer");
    const device = await connectDevice(p.url, user.token);
    await device.client.close();
    await assert.rejects(device.client.send(1n, "late"), (err: unknown) => err instanceof ClientClosedError);
    assert.equal(device.client.state, "closed");
  });

  it("surfaces refused requests as typed errors with the server's code", async () => {
    const user = await p.user("typed");
    const device = await connectDevice(p.url, user.token, { format: "json" });
    await assert.rejects(device.client.send(123n, "nowhere"), (err: unknown) => {
      assert.equal((err as { code: string }).code, "NOT_FOUND");
      assert.equal((err as { retryable: boolean }).retryable, false);
      return true;
    });
    await device.client.close();
  });
});
