import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SmsSeen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
/** `hang` never answers, to exercise the timeout. */
export type SmsReply = { status: number; json?: unknown; headers?: Record<string, string> } | "hang";

/** A generic SMS gateway stand-in: records each request and answers with the next of `replies`, then with `reply`. */
export async function startFakeSmsGateway() {
  const fake = { seen: [] as SmsSeen[], reply: { status: 201 } as SmsReply, replies: [] as SmsReply[], url: "", server: undefined as unknown as Server };
  fake.server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      fake.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const reply = fake.replies.shift() ?? fake.reply;
      if (reply === "hang") return;
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(reply.json === undefined ? "" : JSON.stringify(reply.json));
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/v1/messages`;
  return fake;
}
