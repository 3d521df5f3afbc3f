import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { ParleyError } from "@parley/client";
import { ChatService, type SendResponse } from "@parley/contracts/parley/chat/v1/chat";
import type { ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { createThrowawayDatabase, freePorts, until, type ThrowawayDatabase } from "@parley/testkit";
import pg from "pg";
import { startParley, type EmbeddedParley } from "./support/embedded.js";
import { RawSocket } from "./support/raw-socket.js";
import { connectDevice, type Device } from "./support/sdk.js";
import { refused } from "./support/status.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const STORE_DOWN = "the message store is unavailable; retry";

/**
 * npm start on a real Postgres reached through a TCP proxy that the test
 * cuts: new connections are refused, and the open ones are ended by the
 * server itself (pg_terminate_backend: SQLSTATE 57P01, as in a shutdown)
 * and then reset, as a crash or a broken network would.
 */
describe("a database outage under npm start on Postgres", () => {
  let database: ThrowawayDatabase;
  let proxy: TcpProxy;
  let parley: EmbeddedParley;

  before(async () => {
    database = await createThrowawayDatabase("parley_outage");
    const direct = new URL(database.url);
    proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    const [internalPort] = await freePorts(1);
    parley = await startParley({ DATABASE_URL: proxied.toString(), INTERNAL_PORT: String(internalPort) });
  });
  after(async () => {
    await proxy?.restore();
    await parley?.close();
    proxy?.close();
    await database?.drop();
  });

  /** The outage: the server ends every connection to the database, and the proxy refuses new ones and resets the rest. */
  async function cut(): Promise<void> {
    proxy.refuseNew();
    const admin = new pg.Client({ connectionString: process.env.PARLEY_TEST_PG_URL });
    admin.on("error", () => {});
    await admin.connect();
    try {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [
        new URL(database.url).pathname.slice(1),
      ]);
    } finally {
      await admin.end();
    }
    proxy.resetOpen();
  }

  it("answers sends UNAVAILABLE and retryable while it lasts, over gRPC and in WebSocket error frames, naming only the message store", async () => {
    const alice = await parley.user("outage_alice");
    const bob = await parley.user("outage_bob");
    const chat: Client<typeof ChatService> = createClient(ChatService, parley.internalAs("gateway", "chat"));
    const as = { headers: new Headers({ "parley-user-id": String(alice.userId), "parley-device-id": String(alice.deviceId) }) };
    const conversationId = (await chat.openDirect({ peerUserId: bob.userId }, as)).conversation!.conversationId;
    const socket = await RawSocket.open(parley.wsUrl, alice.token);
    await socket.next((f) => f.body.case === "welcome");
    let id = 0n;
    const send = async (text: string): Promise<ServerFrame> => {
      const requestId = ++id;
      socket.send({ id: requestId, body: { case: "send", value: { conversationId, clientMsgId: `probe-${requestId}`, text } } });
      return socket.reply(requestId);
    };
    try {
      assert.equal((await send("before")).body.case, "send");
      await cut();
      for (let i = 0; i < 5; i++) {
        const frame = await send(`during ${i}`);
        assert.equal(frame.body.case, "error");
        if (frame.body.case !== "error") return;
        assert.deepEqual([frame.body.value.code, frame.body.value.message, frame.body.value.retryable], ["UNAVAILABLE", STORE_DOWN, true]);
      }
      await refused(chat.send({ conversationId, clientMsgId: "grpc-during", text: "during" }, as), Code.Unavailable, new RegExp(`^${STORE_DOWN}$`));
      await refused(chat.history({ conversationId }, as), Code.Unavailable, new RegExp(`^${STORE_DOWN}$`));
      await refused(chat.sync({}, as), Code.Unavailable, new RegExp(`^${STORE_DOWN}$`));
      await proxy.restore();
      await until(async () => (await send("after")).body.case === "send", "a send to succeed once the database is back");
      const history = await chat.history({ conversationId }, as);
      assert.deepEqual(history.messages.map((m) => m.text).reverse(), ["before", "after"], "nothing sent during the outage was stored");
    } finally {
      await proxy.restore();
      socket.close();
    }
  });

  it("gets every message of an SDK client sending steadily through it acked once and to the recipient once, and never stores one the person cancelled", async () => {
    const a = await parley.user("steady_alice");
    const b = await parley.user("steady_bob");
    const c = await parley.user("steady_carol");
    const alice: Device = await connectDevice(parley.url, a.token);
    const bob: Device = await connectDevice(parley.url, b.token);
    // The message the person gives up on goes from their laptop, whose client sends nothing else.
    const laptop: Device = await connectDevice(parley.url, (await parley.logIn("steady_alice", "laptop")).token);
    let sending = true;
    try {
      const conversationId = (await alice.client.openDirect(b.userId)).conversationId;
      const toCarol = (await alice.client.openDirect(c.userId)).conversationId;
      const acks: Promise<SendResponse>[] = [];
      let acked = 0;
      let failed: unknown;
      /** A condition that gives up at once when a send failed for good (the SDK stopped retrying). */
      const once = (condition: () => boolean) => () => {
        if (failed !== undefined) throw failed;
        return condition();
      };
      // A person typing steadily: one message every 20 ms, whatever the database does.
      const pump = (async () => {
        while (sending) {
          const ack = alice.client.send(conversationId, `steady ${acks.length}`);
          void ack.then(
            () => acked++,
            (err: unknown) => (failed ??= err),
          );
          acks.push(ack);
          await delay(20);
        }
      })();

      await until(
        once(() => acked >= 10),
        "10 messages acked before the outage",
      );
      await cut();
      // The outage lasts until many messages wait unacknowledged and the SDK has retried them.
      // The person gives up on one message during the outage: it fails with CANCELLED and is never stored.
      const abandoned = laptop.client.send(toCarol, "never mind", { clientMsgId: "abandoned-during-outage" });
      await until(
        once(() => alice.client.pendingSends >= 60),
        "60 sends waiting during the outage",
      );
      assert.equal(laptop.client.cancelSend("abandoned-during-outage"), true);
      await assert.rejects(abandoned, (err: unknown) => err instanceof ParleyError && err.code === "CANCELLED");
      // An attempt already on the wire may still be stored (the SDK's contract): the store comes back
      // only once the laptop's last attempt has been answered, so what is checked is that no retry
      // follows the cancel.
      await until(() => laptop.client.pendingSends === 0, "the laptop's last attempt answered");
      await proxy.restore();
      const sentBeforeRestore = acks.length;
      await until(
        once(() => acked >= sentBeforeRestore + 10),
        "the backlog and 10 more messages acked after the outage",
      );
      sending = false;
      await pump;

      const results = await Promise.all(acks); // a send failing for good rejects here
      const ids = new Set(results.map((r) => r.messageId));
      assert.equal(ids.size, acks.length, "every message acked with its own message id");
      const expected = acks.map((_, i) => `steady ${i}`);
      await bob.received(acks.length, 30_000);
      const received = bob.messages.filter((m) => m.conversationId === conversationId).map((m) => m.text);
      assert.deepEqual(received, expected, "the recipient got each message once, in order");

      const stored: string[] = [];
      let before = 0n;
      for (;;) {
        const page = await bob.client.history(conversationId, { beforeMessageId: before, limit: 200 });
        stored.push(...page.messages.map((m) => m.text));
        if (!page.hasMore) break;
        before = page.messages.at(-1)!.messageId;
      }
      assert.deepEqual(stored.reverse(), expected, "each message stored exactly once");
      assert.deepEqual((await alice.client.history(toCarol)).messages, [], "the cancelled message was not stored");
      assert.equal(laptop.client.cancelSend("abandoned-during-outage"), false, "nothing left to cancel");
    } finally {
      sending = false;
      await proxy.restore();
      await Promise.all([alice.client.close(), bob.client.close(), laptop.client.close()]);
    }
  });
});
