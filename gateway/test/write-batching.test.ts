import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { encodedOnce, WriteBatcher } from "../src/ws/write-batching.js";

describe("write batching", () => {
  it("holds a socket's writes of one turn and releases them together at its end", async () => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const client = connect((server.address() as { port: number }).port, "127.0.0.1");
    await once(client, "connect");
    const [peer] = await accepted;
    try {
      const batcher = new WriteBatcher(client);
      for (const chunk of ["a", "b", "c"]) {
        batcher.hold();
        client.write(chunk);
      }
      assert.equal(client.writableCorked, 1, "one hold for the turn, however many writes");
      assert.equal(client.writableLength, 3, "the writes wait in the socket's buffer");
      await new Promise((resolve) => process.nextTick(resolve));
      assert.equal(client.writableCorked, 0, "released at the end of the turn");
      let received = "";
      peer.on("data", (data: Buffer) => (received += data.toString()));
      while (received.length < 3) await once(peer, "data");
      assert.equal(received, "abc");
      batcher.hold();
      assert.equal(client.writableCorked, 1, "a later turn holds again");
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it("encodes a frame once per format, however many sockets it is written to", () => {
    const calls: string[] = [];
    const encode = encodedOnce((frame: { text: string }, format: string) => {
      calls.push(`${frame.text}/${format}`);
      return `${format}:${frame.text}`;
    });
    const frame = { text: "hi" };
    for (let i = 0; i < 5; i++) assert.equal(encode(frame, "proto"), "proto:hi");
    assert.equal(encode(frame, "json"), "json:hi");
    assert.equal(encode({ text: "hi" }, "proto"), "proto:hi", "another frame object with the same content is encoded anew");
    assert.deepEqual(calls, ["hi/proto", "hi/json", "hi/proto"]);
  });

  it("keeps each format's last frame apart, so devices of both formats interleaved still share one encoding each", () => {
    const calls: string[] = [];
    const encode = encodedOnce((frame: { text: string }, format: string) => {
      calls.push(`${frame.text}/${format}`);
      return `${format}:${frame.text}`;
    });
    const a = { text: "a" };
    const b = { text: "b" };
    for (const format of ["proto", "json", "proto", "json"]) assert.equal(encode(a, format), `${format}:a`);
    assert.equal(encode(b, "proto"), "proto:b");
    assert.equal(encode(a, "proto"), "proto:a", "a frame written again after another is encoded anew, not mixed up");
    assert.deepEqual(calls, ["a/proto", "a/json", "b/proto", "a/proto"]);
  });
});
