/**
 * The ceiling: a minimal WebSocket relay with no auth, storage or ids. A
 * client connects to `/?id=N`; each binary frame `[to: uint32 BE][body]` is
 * forwarded as `body` to connection `to`, or to each member of group `to`
 * (top bit set); a frame to 0xFFFFFFFF registers a group
 * (`[groupId][member...]`). Started by `npm run bench` as its own process.
 */
import { WebSocketServer, type WebSocket } from "ws";

const GROUP_BIT = 0x80000000;
const REGISTER = 0xffffffff;
const sockets = new Map<number, WebSocket>();
const groups = new Map<number, number[]>();

const server = new WebSocketServer({ host: "127.0.0.1", port: Number(process.env.PORT ?? 0), perMessageDeflate: false });
server.on("connection", (ws, req) => {
  const id = Number(new URL(req.url ?? "/", "http://relay").searchParams.get("id"));
  sockets.set(id, ws);
  ws.on("message", (data: Buffer) => {
    const to = data.readUInt32BE(0);
    if (to === REGISTER) {
      const members: number[] = [];
      for (let at = 8; at + 4 <= data.length; at += 4) members.push(data.readUInt32BE(at));
      groups.set(data.readUInt32BE(4), members);
      return;
    }
    const body = data.subarray(4);
    if ((to & GROUP_BIT) === 0) sockets.get(to)?.send(body);
    else for (const member of groups.get(to) ?? []) sockets.get(member)?.send(body);
  });
  ws.on("close", () => {
    if (sockets.get(id) === ws) sockets.delete(id);
  });
});
server.on("listening", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  console.log(JSON.stringify({ msg: "relay listening", url: `ws://127.0.0.1:${port}` }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
