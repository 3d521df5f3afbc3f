/**
 * A tiny terminal chat on the SDK. With `npm start` running, in two terminals:
 *   npm run chat -- alice bob
 *   npm run chat -- bob alice
 * Each signs up on first use (password from PARLEY_PASSWORD, default below),
 * logs in, opens the conversation with the peer, prints what arrives and
 * sends each line typed.
 *
 * PARLEY_URL is the gateway's public HTTP address: http:// or https://, no path or trailing
 * slash (default http://127.0.0.1:8080, where `npm start` listens). The example calls the
 * account API there and opens the WebSocket on the same host and port, ws:// for http:// and
 * wss:// for https:// (the SDK adds the /ws path). A ws:// URL does not work here: the
 * account API is HTTP.
 */
import { createInterface } from "node:readline";
import { ParleyClient } from "@parley/client";

const [me, peer] = process.argv.slice(2);
if (!me || !peer) {
  console.error("usage: npm run chat -- <your username> <peer username>");
  process.exit(2);
}
const base = process.env.PARLEY_URL ?? "http://127.0.0.1:8080";
const password = process.env.PARLEY_PASSWORD ?? "correct horse battery";

/** The parts of the account service's replies this example reads (64-bit ids are decimal strings in JSON). */
interface LogInReply {
  session: { accessToken: string };
  profile: { userId: string };
}
interface GetProfileReply {
  profile: { userId: string };
}

async function api(method: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(`${base}/parley.account.v1.AccountService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { code?: string; message?: string };
  if (!res.ok && !(method === "SignUp" && json.code === "already_exists")) throw new Error(`${method}: ${json.message}`);
  return json;
}

await api("SignUp", { username: me, password });
const login = (await api("LogIn", { username: me, password, deviceName: `terminal ${process.pid}` })) as LogInReply;
const token: string = login.session.accessToken;
const peerProfile = await findPeer();
const names = new Map<string, string>([
  [login.profile.userId, me],
  [peerProfile.userId, peer],
]);

const client = new ParleyClient({ url: base.replace(/^http/, "ws"), token, startFrom: "server" });
let conversationId: bigint | undefined; // messages before it is known are shown from history
const shown = new Set<bigint>();
client.on("message", (m) => {
  if (m.conversationId === conversationId && !shown.has(m.messageId) && shown.add(m.messageId))
    console.log(`${names.get(String(m.senderId)) ?? m.senderId}: ${m.text}`);
});
client.on("disconnected", (info) => console.log(`(disconnected: ${info.code} ${info.reason}; ${info.action})`));
await client.connect();
const conversation = await client.openDirect(BigInt(peerProfile.userId));
const recent = await client.history(conversation.conversationId, { limit: 10 });
conversationId = conversation.conversationId;
for (const m of recent.messages.reverse()) shown.add(m.messageId) && console.log(`${names.get(String(m.senderId))}: ${m.text}`);
console.log(`-- chatting with ${peer}; type a line and press enter (Ctrl-D to quit)`);

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() !== "") client.send(conversation.conversationId, line).catch((err: Error) => console.error(`(not sent: ${err.message})`));
});
lines.on("close", () => void client.close().then(() => process.exit(0)));

async function findPeer(): Promise<{ userId: string }> {
  for (let waited = false; ; waited = true) {
    try {
      return ((await api("GetProfile", { username: peer }, token)) as GetProfileReply).profile;
    } catch {
      if (!waited) console.log(`-- waiting for ${peer} to sign up...`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
