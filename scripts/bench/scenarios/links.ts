/**
 * Links (see flow.ts) over real connections: Parley devices speaking the
 * SDK's binary codec, or relay sockets. Message i travels as the text
 * `<tag>:<i>` (Parley) or a four-byte body (relay); the receiver side turns
 * it back into i.
 */
import type { BenchUser } from "../accounts.js";
import { connectParley, connectRelay, type ParleyConn, type RelayConn } from "../wire.js";
import type { Link } from "./flow.js";

export interface Links {
  links: Link[];
  close(): Promise<void>;
}

async function closeAll(conns: { close(): Promise<void> }[]): Promise<void> {
  await Promise.all(conns.map((c) => c.close()));
}

/** Each pair's direct conversation, opened once before the timed runs. */
export async function openPairs(url: string, pairs: [BenchUser, BenchUser][]): Promise<bigint[]> {
  return Promise.all(
    pairs.map(async ([a, b]) => {
      const conn = await connectParley(url, a.tokens[0]!);
      const reply = await conn.request({ case: "openDirect", value: { peerUserId: b.userId } });
      await conn.close();
      if (reply.body.case !== "openDirect") throw new Error("openDirect failed");
      return reply.body.value.conversation!.conversationId;
    }),
  );
}

function receiveInto(conn: ParleyConn, tag: string, link: Link, receiver: number): void {
  const prefix = `${tag}:`;
  conn.onMessage = (message, _seq, at) => {
    if (message.text.startsWith(prefix)) link.onDeliver(Number(message.text.slice(prefix.length)), receiver, at);
  };
}

export async function parleyPairs(url: string, pairs: [BenchUser, BenchUser][], conversations: bigint[], tag: string): Promise<Links> {
  const conns: ParleyConn[] = [];
  const links = await Promise.all(
    pairs.map(async ([a, b], p) => {
      const [sender, receiver] = await Promise.all([connectParley(url, a.tokens[0]!), connectParley(url, b.tokens[0]!)]);
      conns.push(sender, receiver);
      const link: Link = { fanout: 1, onDeliver: () => {}, send: (i) => sender.send(conversations[p]!, `${tag}-${i}`, `${tag}:${i}`) };
      receiveInto(receiver, tag, link, 0);
      return link;
    }),
  );
  return { links, close: () => closeAll(conns) };
}

export async function relayPairs(url: string, count: number): Promise<Links> {
  const conns: RelayConn[] = [];
  const links = await Promise.all(
    Array.from({ length: count }, async (_, p) => {
      const [sender, receiver] = await Promise.all([connectRelay(url, 2 * p + 1), connectRelay(url, 2 * p + 2)]);
      conns.push(sender, receiver);
      const link: Link = {
        fanout: 1,
        onDeliver: () => {},
        send: async (i) => {
          const body = Buffer.allocUnsafe(4);
          body.writeUInt32BE(i, 0);
          sender.send(receiver.id, body);
          return undefined;
        },
      };
      receiver.onMessage = (body, at) => link.onDeliver(body.readUInt32BE(0), 0, at);
      return link;
    }),
  );
  return { links, close: () => closeAll(conns) };
}

/** A group of the owner and `members`, created once before the timed runs. */
export async function createGroup(url: string, owner: BenchUser, members: BenchUser[]): Promise<bigint> {
  const conn = await connectParley(url, owner.tokens[0]!);
  const reply = await conn.request({ case: "createGroup", value: { name: "bench", memberIds: members.map((m) => m.userId) } });
  await conn.close();
  if (reply.body.case !== "createGroup") throw new Error(`createGroup failed: ${JSON.stringify(reply.body.value)}`);
  return reply.body.value.conversation!.conversationId;
}

export async function parleyGroup(url: string, owner: BenchUser, members: BenchUser[], groupId: bigint, tag: string): Promise<Links> {
  const sender = await connectParley(url, owner.tokens[0]!);
  const receivers = await Promise.all(members.map((m) => connectParley(url, m.tokens[0]!)));
  const link: Link = { fanout: members.length, onDeliver: () => {}, send: (i) => sender.send(groupId, `${tag}-${i}`, `${tag}:${i}`) };
  for (const [index, r] of receivers.entries()) receiveInto(r, tag, link, index);
  return { links: [link], close: () => closeAll([sender, ...receivers]) };
}

export async function relayGroup(url: string, members: number): Promise<Links> {
  const sender = await connectRelay(url, 1);
  const receivers = await Promise.all(Array.from({ length: members }, (_, r) => connectRelay(url, r + 2)));
  const groupId = 0x80000001;
  sender.group(
    groupId,
    receivers.map((r) => r.id),
  );
  const link: Link = {
    fanout: members,
    onDeliver: () => {},
    send: async (i) => {
      const body = Buffer.allocUnsafe(4);
      body.writeUInt32BE(i, 0);
      sender.send(groupId, body);
      return undefined;
    },
  };
  for (const [index, r] of receivers.entries()) r.onMessage = (body, at) => link.onDeliver(body.readUInt32BE(0), index, at);
  return { links: [link], close: () => closeAll([sender, ...receivers]) };
}
