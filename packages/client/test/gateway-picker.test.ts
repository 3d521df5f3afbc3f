import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { FALLBACK_TTL_MS, GatewayPicker, pickGateway } from "../src/pick-gateway.js";

/** A discovery endpoint on loopback that names gateways in turn and records what each PickGateway asked. */
describe("gateway picker", () => {
  const asked: { zone?: string; avoidUrls?: string[] }[] = [];
  let server: Server;
  let url = "";
  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        asked.push(JSON.parse(body) as { zone?: string; avoidUrls?: string[] });
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ url: `ws://gw-${asked.length}.example.com/ws`, instanceId: `gw-${asked.length}` }));
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    url = `http://127.0.0.1:${address.port}`;
  });
  after(() => server.close());

  it("asks discovery to avoid the gateways whose connections ended, newest first, until a connection is welcomed", async () => {
    const picker = new GatewayPicker({ url, zone: "a" });
    assert.equal(await picker.pick(1_000), "ws://gw-1.example.com/ws");
    assert.deepEqual(asked.at(-1), { zone: "a" }, "nothing to avoid at first");
    picker.lost();
    assert.equal(await picker.pick(1_000), "ws://gw-2.example.com/ws");
    assert.deepEqual(asked.at(-1), { zone: "a", avoidUrls: ["ws://gw-1.example.com/ws"] });
    for (let i = 0; i < 5; i++) {
      picker.lost();
      await picker.pick(1_000);
    }
    assert.deepEqual(
      asked.at(-1)?.avoidUrls,
      [6, 5, 4, 3].map((n) => `ws://gw-${n}.example.com/ws`),
      "the last four lost, newest first",
    );
    picker.welcomed();
    await picker.pick(1_000);
    assert.deepEqual(asked.at(-1), { zone: "a" }, "a welcome clears the list");
  });

  it("asks a discovery url on the host of a gateway to avoid last (a dead gateway's address would only refuse)", async () => {
    const other = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ url: "ws://from-other.example.com/ws" }));
    });
    other.listen(0, "127.0.0.1");
    await once(other, "listening");
    try {
      const port = (other.address() as { port: number }).port;
      const otherUrl = `http://127.0.0.1:${port}`;
      const before = asked.length;
      const avoided = `ws://127.0.0.1:${new URL(url).port}/ws`;
      assert.equal(await pickGateway({ url: [url, otherUrl] }, 1_000, [avoided]), "ws://from-other.example.com/ws");
      assert.equal(asked.length, before, "the avoided gateway's host was not asked");
      assert.equal(await pickGateway({ url: [url, otherUrl] }, 1_000), `ws://gw-${before + 1}.example.com/ws`, "in order otherwise");
    } finally {
      other.close();
    }
  });

  it("dials the fallbacks of its last answer after a loss without asking again, then asks when they run out or grow stale", async () => {
    let asks = 0;
    const discovery = createServer((_req, res) => {
      asks++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ url: `ws://main-${asks}/ws`, fallbackUrls: [`ws://spare-a-${asks}/ws`, `ws://spare-b-${asks}/ws`] }));
    });
    discovery.listen(0, "127.0.0.1");
    await once(discovery, "listening");
    try {
      const clock = { ms: 0 };
      const picker = new GatewayPicker({ url: `http://127.0.0.1:${(discovery.address() as { port: number }).port}` }, () => clock.ms);
      assert.equal(await picker.pick(1_000), "ws://main-1/ws");
      picker.lost();
      assert.equal(await picker.pick(1_000), "ws://spare-a-1/ws", "the first fallback, not asked");
      picker.lost();
      assert.equal(await picker.pick(1_000), "ws://spare-b-1/ws");
      assert.equal(asks, 1);
      picker.lost();
      assert.equal(await picker.pick(1_000), "ws://main-2/ws", "fallbacks used up: asked again");
      picker.welcomed();
      assert.equal(await picker.pick(1_000), "ws://main-3/ws", "no loss: asked, fallbacks not used");
      clock.ms += FALLBACK_TTL_MS + 1;
      picker.lost();
      assert.equal(await picker.pick(1_000), "ws://main-4/ws", "stale fallbacks are not dialled");
    } finally {
      discovery.close();
    }
  });
});
