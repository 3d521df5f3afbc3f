import type { Transport } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Command, Reply } from "@parley/contracts/parley/chat/v1/chat";
import type { Logger } from "@parley/runtime";
import type { ChatCommands } from "../ports.js";
import { ChatLink } from "./chat-link.js";

/** The chat instances to link to, as the registry shows them now (one fixed instance without a registry). */
export interface ChatInstances {
  /** Read every REFRESH_MS and before a command when older. */
  current(): readonly { address: string; draining: boolean }[];
  transport(address: string): Transport;
}

/** One chat reached through `transport` (in one process, or at a fixed address). */
export function singleChat(transport: Transport): ChatInstances {
  const only = [{ address: "chat", draining: false }];
  return { current: () => only, transport: () => transport };
}

/** How often the instance list is read again, so a new chat instance learns of this gateway without waiting for traffic. */
const REFRESH_MS = 500;

/**
 * The gateway's streams to every chat instance, one ChatLink each. Each
 * stream's hello tells that instance where this gateway's DeliverService is,
 * so any chat instance can deliver to any gateway, whichever instance stored
 * the message. A user's commands all go to one instance, chosen by
 * rendezvous hashing of the user id over the instances whose stream is up
 * and that are not draining: the user's sends keep their order, and when an
 * instance dies or drains only its users move (their commands in flight
 * fail as UNAVAILABLE, which devices retry, de-duplicated by client message
 * id). Links follow the registry: one is opened for an instance that
 * appears and closed once it has left.
 */
export class ChatLinks implements ChatCommands {
  private readonly links = new Map<string, { link: ChatLink; draining: boolean; weight: number }>();
  private refreshedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly instances: ChatInstances,
    private readonly hello: { gatewayId: string; deliverAddress: string },
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Opens a stream to every instance now, and keeps following the registry. */
  connect(): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  call(userId: bigint, deviceId: bigint, op: Command["op"]): Promise<Reply["result"]> {
    if (this.closed) return Promise.reject(new ConnectError("the gateway is shutting down", Code.Unavailable));
    if (performance.now() - this.refreshedAt > REFRESH_MS) this.refresh();
    const link = this.choose(userId);
    if (link === undefined) return Promise.reject(new ConnectError("no chat instance is available; retry", Code.Unavailable));
    return link.call(userId, deviceId, op);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const { link } of this.links.values()) link.close();
    this.links.clear();
  }

  /** The instance serving `userId` among those up and not draining; when none is, any link (the call fails fast and is retried). */
  private choose(userId: bigint): ChatLink | undefined {
    if (this.links.size === 1) return this.links.values().next().value?.link; // one process, or one instance
    const entries = [...this.links.values()];
    const live = entries.filter((entry) => !entry.draining && entry.link.isUp);
    return (rendezvous(userId, live, (entry) => entry.weight) ?? entries[0])?.link;
  }

  private refresh(): void {
    if (this.closed) return;
    this.refreshedAt = performance.now();
    const now = this.instances.current();
    for (const [address, entry] of this.links) {
      if (now.some((instance) => instance.address === address)) continue;
      entry.link.close();
      this.links.delete(address);
      this.logger.info({ address }, "chat instance left the registry; its stream is closed");
    }
    for (const { address, draining } of now) {
      const entry = this.links.get(address);
      if (entry !== undefined) {
        entry.draining = draining;
        continue;
      }
      const link = new ChatLink(this.instances.transport(address), this.hello, this.timeoutMs, this.logger);
      this.links.set(address, { link, draining, weight: addressWeight(address) });
      link.connect();
    }
  }
}

/** A 32-bit key of the user id (both halves folded, so ids differing only in high bits still spread). */
function userKey(userId: bigint): number {
  return (Number(userId & 0xffffffffn) ^ Number((userId >> 32n) & 0xffffffffn)) >>> 0;
}

/** A 32-bit finaliser (murmur3's): every input bit moves every output bit, so the scores of one user over the instances are independent. */
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Rendezvous (highest random weight) hashing: the candidate with the highest
 * score for this user. Removing a candidate moves only the users it had;
 * adding one takes about 1/n of the users from each of the others.
 */
export function rendezvous<T>(userId: bigint, candidates: readonly T[], weightOf: (candidate: T) => number): T | undefined {
  const key = userKey(userId);
  let best: T | undefined;
  let bestScore = -1;
  for (const candidate of candidates) {
    const score = mix(key ^ weightOf(candidate));
    if (score > bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}

/** FNV-1a of an instance's address: its fixed weight in rendezvous(). */
export function addressWeight(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
