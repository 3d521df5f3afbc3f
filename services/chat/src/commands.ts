import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AckCursorResponseSchema,
  HistoryResponseSchema,
  ListConversationsResponseSchema,
  MarkReadResponseSchema,
  OpenDirectResponseSchema,
  SendResponseSchema,
  SetTypingResponseSchema,
  SyncResponseSchema,
  type AckCursorRequest,
  type AckCursorResponse,
  type HistoryRequest,
  type HistoryResponse,
  type ListConversationsRequest,
  type ListConversationsResponse,
  type MarkReadRequest,
  type MarkReadResponse,
  type OpenDirectRequest,
  type OpenDirectResponse,
  type SendRequest,
  type SendResponse,
  type SetTypingRequest,
  type SetTypingResponse,
  type SyncRequest,
  type SyncResponse,
} from "@parley/contracts/parley/chat/v1/chat";
import type { Actor, Chat } from "./chat.js";
import { toConversation, toInboxEntry, toMessage, toSummary } from "./convert.js";

/**
 * The chat commands as contract request -> response functions for an actor.
 * The unary RPCs and the gateway's multiplexed Stream both call these, so
 * the two paths cannot behave differently.
 */
export function chatCommands(chat: Chat) {
  return {
    async send(actor: Actor, req: SendRequest): Promise<SendResponse> {
      const outcome = await chat.send(actor, req.conversationId, req.clientMsgId, req.text);
      return create(SendResponseSchema, {
        messageId: outcome.message.messageId,
        seq: outcome.senderSeq,
        conversationId: outcome.message.conversationId,
        createdAt: timestampFromDate(outcome.message.createdAt),
        duplicate: outcome.duplicate,
      });
    },
    async sync(actor: Actor, req: SyncRequest): Promise<SyncResponse> {
      const page = await chat.sync(actor, req.afterSeq, req.limit);
      return create(SyncResponseSchema, { entries: page.entries.map(toInboxEntry), hasMore: page.hasMore, headSeq: page.headSeq });
    },
    async history(actor: Actor, req: HistoryRequest): Promise<HistoryResponse> {
      const page = await chat.history(actor, req.conversationId, req.beforeMessageId, req.limit);
      return create(HistoryResponseSchema, { messages: page.messages.map(toMessage), hasMore: page.hasMore });
    },
    async markRead(actor: Actor, req: MarkReadRequest): Promise<MarkReadResponse> {
      return create(MarkReadResponseSchema, { unreadCount: await chat.markRead(actor, req.conversationId, req.messageId) });
    },
    async ackCursor(actor: Actor, req: AckCursorRequest): Promise<AckCursorResponse> {
      await chat.ackCursor(actor, req.seq);
      return create(AckCursorResponseSchema, {});
    },
    async setTyping(actor: Actor, req: SetTypingRequest): Promise<SetTypingResponse> {
      await chat.setTyping(actor, req.conversationId, req.typing);
      return create(SetTypingResponseSchema, {});
    },
    async listConversations(actor: Actor, req: ListConversationsRequest): Promise<ListConversationsResponse> {
      const page = await chat.listConversations(actor, req.limit, req.pageToken);
      return create(ListConversationsResponseSchema, { conversations: page.conversations.map(toSummary), nextPageToken: page.nextPageToken });
    },
    async openDirect(actor: Actor, req: OpenDirectRequest): Promise<OpenDirectResponse> {
      return create(OpenDirectResponseSchema, { conversation: toConversation(await chat.openDirect(actor, req.peerUserId)) });
    },
  };
}

export type ChatCommands = ReturnType<typeof chatCommands>;
