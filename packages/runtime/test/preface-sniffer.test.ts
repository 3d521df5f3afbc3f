import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { describe, it } from "node:test";
import { sniffPreface, type Protocol } from "../src/preface-sniffer.js";

/** A server whose accepted sockets go through the sniffer; resolves with the socket and what it was routed as. */
async function sniffing(timeoutMs = 10_000) {
  const routed: { socket: net.Socket; protocol: Protocol }[] = [];
  const waiters: (() => void)[] = [];
  const open: net.Socket[] = [];
  const server = net.createServer((socket) => {
    open.push(socket);
    sniffPreface(socket, timeoutMs, (protocol) => {
      routed.push({ socket, protocol });
      waiters.shift()?.();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  return {
    server,
    /** Ends every connection (a failed assertion must not leave close() waiting for them) and the server. */
    close() {
      for (const socket of open) socket.destroy();
      server.close();
    },
    async route(bytes: string[]) {
      const client = net.connect(port, "127.0.0.1");
      open.push(client);
      await once(client, "connect");
      const done = new Promise<void>((resolve) => waiters.push(resolve));
      for (const chunk of bytes) {
        client.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await done;
      return { client, ...routed.at(-1)! };
    },
  };
}

describe("the preface sniffer", () => {
  it("tells HTTP/2 from HTTP/1.1 and puts the bytes it read back, unread", async () => {
    const { close, route } = await sniffing();
    try {
      const h1 = await route(["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
      assert.equal(h1.protocol, "h1");
      assert.equal(h1.socket.read()?.toString(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      const h2 = await route(["PRI * HT", "TP/2.0\r\n\r\nSM\r\n\r\n"]);
      assert.equal(h2.protocol, "h2", "a preface split over two reads is still recognised");
    } finally {
      close();
    }
  });

  it("leaves nothing of its own on a socket it handed on but a shared error guard", async () => {
    const { close, route } = await sniffing();
    try {
      const before = new net.Socket();
      const { socket } = await route(["GET /ws HTTP/1.1\r\nAuthorization: Bearer secret\r\n\r\n"]);
      // Its data and close listeners (and the first bytes and the timer they held) are gone:
      // a WebSocket keeps its socket for hours, and they would have lived as long.
      assert.equal(socket.listenerCount("data"), 0);
      assert.equal(socket.listenerCount("close"), before.listenerCount("close"));
      assert.equal(socket.listenerCount("error"), 1, "errors before the next owner listens must not go unhandled");
      const [guardOfThis] = socket.listeners("error");
      const other = await route(["GET / HTTP/1.1\r\n\r\n"]);
      assert.equal(other.socket.listeners("error")[0], guardOfThis, "one guard function for every socket, not a closure each");
      socket.emit("error", new Error("reset"));
      assert.equal(socket.destroyed, true, "the guard destroys the socket");
    } finally {
      close();
    }
  });

  it("destroys a connection that sends nothing in time", async () => {
    const { server, close } = await sniffing(50);
    try {
      const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
      await once(client, "close");
    } finally {
      close();
    }
  });
});
