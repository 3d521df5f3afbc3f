import { ParleyClient } from "@parley/client";
import type { Message, MessageDeleted, MessageReacted } from "@parley/contracts/parley/chat/v1/chat";
import { until } from "@parley/testkit";

/** An SDK client plus everything it received, for assertions. */
export interface Device {
  client: ParleyClient;
  messages: Message[];
  reads: { conversationId: bigint; userId: bigint; messageId: bigint }[];
  /** Every `edited` event's message, in arrival order. */
  edits: Message[];
  /** Every `deleted` event, in arrival order. */
  deletions: MessageDeleted[];
  /** Every `reacted` event, in arrival order. */
  reactions: MessageReacted[];
  /** Resolves once `count` messages have arrived in total. */
  received(count: number, timeoutMs?: number): Promise<Message[]>;
}

export async function connectDevice(gatewayUrl: string, token: string, options: { format?: "proto" | "json" } = {}): Promise<Device> {
  const client = new ParleyClient({ url: gatewayUrl.replace(/^http/, "ws"), token, format: options.format ?? "proto", backoff: { initialMs: 50, maxMs: 500 } });
  const messages: Message[] = [];
  const reads: Device["reads"] = [];
  const edits: Message[] = [];
  const deletions: MessageDeleted[] = [];
  const reactions: MessageReacted[] = [];
  client.on("message", (m) => messages.push(m));
  client.on("edited", (m) => edits.push(m));
  client.on("deleted", (d) => deletions.push(d));
  client.on("reacted", (r) => reactions.push(r));
  client.on("read", (r) => reads.push({ conversationId: r.conversationId, userId: r.userId, messageId: r.messageId }));
  await client.connect();
  return {
    client,
    messages,
    reads,
    edits,
    deletions,
    reactions,
    async received(count, timeoutMs = 20_000) {
      await until(
        () => messages.length >= count,
        () => `${count} messages (received ${messages.length})`,
        { timeoutMs },
      );
      return messages;
    },
  };
}
