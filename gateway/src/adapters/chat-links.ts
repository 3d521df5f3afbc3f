import { Code, ConnectError } from "@connectrpc/connect";
import type { Command, Reply } from "@parley/contracts/parley/chat/v1/chat";
import { addressWeight, rendezvous, type InstanceSource } from "@parley/mesh";
import type { Logger } from "@parley/runtime";
import type { ChatCommands, CommandOrigin } from "../ports.js";
import { ChatLink, type CommandPacing, UNPACED } from "./chat-link.js";

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
    private readonly instances: InstanceSource,
    private readonly hello: { gatewayId: string; deliverAddress: string },
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly pacing: CommandPacing = UNPACED,
    /** False when chat runs in this process (see ChatLink). */
    private readonly watchSilence = true,
  ) {}

  /** Opens a stream to every instance now, and keeps following the registry. */
  connect(): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  call(userId: bigint, deviceId: bigint, op: Command["op"], origin?: CommandOrigin): Promise<Reply["result"]> {
    if (this.closed) return Promise.reject(new ConnectError("the gateway is shutting down", Code.Unavailable));
    if (performance.now() - this.refreshedAt > REFRESH_MS) this.refresh();
    const link = this.choose(userId);
    if (link === undefined) return Promise.reject(new ConnectError("no chat instance is available; retry", Code.Unavailable));
    return link.call(userId, deviceId, op, origin);
  }

  /** True while the stream to at least one chat instance is up (it answered): without one, no device can send. */
  get anyUp(): boolean {
    for (const { link } of this.links.values()) if (link.isUp) return true;
    return false;
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
      const link = new ChatLink(this.instances.transport(address), this.hello, this.timeoutMs, this.logger, this.pacing, this.watchSilence);
      this.links.set(address, { link, draining, weight: addressWeight(address) });
      link.connect();
    }
  }
}
