import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CloseCode, ServerFrameSchema, type ServerFrame } from "@parley/contracts/parley/client/v1/client";
import { decodeClientFrame, encodeServerFrame, SUBPROTOCOL_PROTO, type WireData } from "@parley/wire";
import { Connection } from "../src/connection.js";
import { PROBE_AFTER_MS, resolveOptions } from "../src/options.js";
import type { SocketCloseInfo, SocketFactory, SocketListener } from "../src/socket.js";

/**
 * A gateway in memory: it welcomes the connection, then answers heartbeats
 * only while `answering` (a stopped gateway answers nothing) and never
 * answers any other request (its upstream is slow).
 */
function gateway(answering: { heartbeats: boolean }) {
  let listener: SocketListener | undefined;
  const push = (frame: ServerFrame) => listener?.message(encodeServerFrame(frame, "proto") as WireData);
  const factory: SocketFactory = (_request, l) => {
    listener = l;
    setImmediate(() => {
      l.open(SUBPROTOCOL_PROTO);
      push(create(ServerFrameSchema, { body: { case: "welcome", value: { userId: 1n, deviceId: 2n, heartbeatIntervalMs: 60_000 } } }));
    });
    return {
      send(data: WireData) {
        const frame = decodeClientFrame(data as Uint8Array, "proto");
        if (frame.body.case === "heartbeat" && answering.heartbeats) push(create(ServerFrameSchema, { id: frame.id, body: { case: "pong", value: {} } }));
      },
      close(code: number, reason: string) {
        l.close({ code, reason });
      },
    };
  };
  return factory;
}

function open(factory: SocketFactory, probeTimeoutMs: number, probeAfterMs = 0) {
  const closed: SocketCloseInfo[] = [];
  let welcomed!: () => void;
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  const connection = new Connection(
    { url: "ws://gateway.test/ws", format: "proto", token: "t", socketFactory: factory, requestTimeoutMs: 30_000, probeTimeoutMs, probeAfterMs },
    { welcome: () => welcomed(), push: () => {}, malformed: () => {}, closed: (info) => closed.push(info) },
  );
  connection.open();
  return { connection, closed, welcome };
}

describe("connection probe", () => {
  it("gives up on a gateway that answers nothing while a request waits, with 4000, within the probe window", async () => {
    const { connection, closed, welcome } = open(gateway({ heartbeats: false }), 100);
    await welcome;
    const started = performance.now();
    await assert.rejects(connection.request("sync", { afterSeq: 0n, limit: 10 }));
    assert.equal(closed[0]?.code, CloseCode.HEARTBEAT_TIMEOUT);
    assert.ok(performance.now() - started < 5_000, "not left to the request timeout");
  });

  it("keeps a connection whose gateway answers the probe, however long the request takes upstream", async () => {
    const { connection, closed, welcome } = open(gateway({ heartbeats: true }), 100);
    await welcome;
    const waiting = connection.request("sync", { afterSeq: 0n, limit: 10 }, 400).catch((err: unknown) => err);
    const err = (await waiting) as { code?: string };
    assert.equal(err.code, "DEADLINE_EXCEEDED", "the request timed out on its own deadline");
    assert.deepEqual(closed, [], "the connection stayed up");
    connection.close(1000, "done");
  });

  it("does not blame the gateway for a stretch in which this process itself was not running", async () => {
    const { connection, closed, welcome } = open(gateway({ heartbeats: true }), 100);
    await welcome;
    const waiting = connection.request("sync", { afterSeq: 0n, limit: 10 }, 600).catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The event loop blocked for three probe windows (a busy device, a suspended tab): no timer ran, no frame was read.
    const blockedUntil = performance.now() + 300;
    while (performance.now() < blockedUntil) {}
    const err = (await waiting) as { code?: string };
    assert.equal(err.code, "DEADLINE_EXCEEDED", "the request timed out on its own deadline");
    assert.deepEqual(closed, [], "the connection stayed up: the gateway answered the probe sent after the stall");
    connection.close(1000, "done");
  });

  it("keeps watching while a request waits: a gateway that stops answering later is given up on too", async () => {
    const answering = { heartbeats: true };
    const { connection, closed, welcome } = open(gateway(answering), 100);
    await welcome;
    const waiting = connection.request("sync", { afterSeq: 0n, limit: 10 }).catch((err: unknown) => err);
    // Answered for a few windows, then silent (stopped) while the request still waits.
    await new Promise((resolve) => setTimeout(resolve, 350));
    answering.heartbeats = false;
    await waiting;
    assert.equal(closed[0]?.code, CloseCode.HEARTBEAT_TIMEOUT);
  });

  it("leaves a connection unprobed for probeAfterMs after its Welcome (it may be one of a reconnect storm), then probes it", async () => {
    const { connection, closed, welcome } = open(gateway({ heartbeats: false }), 100, 60_000);
    await welcome;
    const err = (await connection.request("sync", { afterSeq: 0n, limit: 10 }, 400).catch((e: unknown) => e)) as { code?: string };
    assert.equal(err.code, "DEADLINE_EXCEEDED", "the young connection's request timed out on its own deadline");
    assert.deepEqual(closed, [], "the young connection stayed up");
    connection.close(1000, "done");

    const settled = open(gateway({ heartbeats: false }), 100, 300);
    await settled.welcome;
    await new Promise((resolve) => setTimeout(resolve, 350)); // older than probeAfterMs now
    await assert.rejects(settled.connection.request("sync", { afterSeq: 0n, limit: 10 }));
    assert.equal(settled.closed[0]?.code, CloseCode.HEARTBEAT_TIMEOUT);
  });

  it("does not probe with probeTimeoutMs 0", async () => {
    const { connection, closed, welcome } = open(gateway({ heartbeats: false }), 0);
    await welcome;
    const err = (await connection.request("sync", { afterSeq: 0n, limit: 10 }, 300).catch((e: unknown) => e)) as { code?: string };
    assert.equal(err.code, "DEADLINE_EXCEEDED");
    assert.deepEqual(closed, []);
    connection.close(1000, "done");
  });
});

describe("probeTimeoutMs option", () => {
  it("is 1,000 ms unless set, 0 turns it off, and it refuses a negative or non-number value at construction", () => {
    assert.equal(resolveOptions({ url: "ws://gateway.test", token: "t" }).probeTimeoutMs, 1_000);
    assert.equal(resolveOptions({ url: "ws://gateway.test", token: "t" }).probeAfterMs, PROBE_AFTER_MS);
    assert.equal(resolveOptions({ url: "ws://gateway.test", token: "t", probeTimeoutMs: 0 }).probeTimeoutMs, 0);
    assert.equal(resolveOptions({ url: "ws://gateway.test", token: "t", probeTimeoutMs: 2_500 }).probeTimeoutMs, 2_500);
    for (const bad of [-1, Number.NaN])
      assert.throws(() => resolveOptions({ url: "ws://gateway.test", token: "t", probeTimeoutMs: bad }), /probeTimeoutMs must be 0 or more/);
  });
});
