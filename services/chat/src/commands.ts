import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AddMembersResponseSchema,
  CreateGroupResponseSchema,
  DeleteGroupResponseSchema,
  DeleteMessageResponseSchema,
  EditMessageResponseSchema,
  SearchMessagesResponseSchema,
  type SearchMessagesRequest,
  type SearchMessagesResponse,
  ReactResponseSchema,
  type ReactRequest,
  type ReactResponse,
  type DeleteMessageRequest,
  type DeleteMessageResponse,
  type EditMessageRequest,
  type EditMessageResponse,
  GetConversationResponseSchema,
  GetReceiptsResponseSchema,
  RemoveMemberResponseSchema,
  SetMemberRoleResponseSchema,
  UpdateGroupResponseSchema,
  type AddMembersRequest,
  type AddMembersResponse,
  type CreateGroupRequest,
  type CreateGroupResponse,
  type DeleteGroupRequest,
  type DeleteGroupResponse,
  type GetConversationRequest,
  type GetConversationResponse,
  type GetReceiptsRequest,
  type GetReceiptsResponse,
  type RemoveMemberRequest,
  type RemoveMemberResponse,
  type SetMemberRoleRequest,
  type SetMemberRoleResponse,
  type UpdateGroupRequest,
  type UpdateGroupResponse,
  AckCursorResponseSchema,
  GetCursorResponseSchema,
  type GetCursorRequest,
  type GetCursorResponse,
  HistoryResponseSchema,
  ListConversationsResponseSchema,
  MarkReadResponseSchema,
  OpenDirectResponseSchema,
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
  ChatService,
} from "@parley/contracts/parley/chat/v1/chat";
import { firstFieldProblem } from "@parley/runtime";
import type { Actor, Chat } from "./domain/chat.js";
import { InvalidInput } from "./errors.js";
import { roleFromMessage, type Groups } from "./domain/groups.js";
import { toConversation, toInboxEntry, toMessage, toReactionCount, toSearchHit, toSummary } from "./convert.js";

/**
 * The chat commands as contract request -> response functions for an actor.
 * The unary RPCs and the gateway's multiplexed Stream both call these, so
 * the two paths cannot behave differently.
 */
export function chatCommands(chat: Chat, groups: Groups) {
  return checked({
    async send(actor: Actor, req: SendRequest): Promise<SendResponse> {
      const outcome = await chat.send(actor, req.conversationId, req.clientMsgId, req.text, req.replyToMessageId);
      // A literal, not create(): the hot path's answer (docs/performance.md).
      return {
        $typeName: "parley.chat.v1.SendResponse",
        messageId: outcome.message.messageId,
        seq: outcome.senderSeq,
        conversationId: outcome.message.conversationId,
        createdAt: timestampFromDate(outcome.message.createdAt),
        duplicate: outcome.duplicate,
      };
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
    async getCursor(actor: Actor, _req: GetCursorRequest): Promise<GetCursorResponse> {
      return create(GetCursorResponseSchema, await chat.cursor(actor));
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
    async getConversation(actor: Actor, req: GetConversationRequest): Promise<GetConversationResponse> {
      return create(GetConversationResponseSchema, { conversation: toConversation(await chat.conversation(actor, req.conversationId)) });
    },
    async getReceipts(actor: Actor, req: GetReceiptsRequest): Promise<GetReceiptsResponse> {
      return create(GetReceiptsResponseSchema, { receipts: await chat.receipts(actor, req.conversationId, req.messageId) });
    },
    async createGroup(actor: Actor, req: CreateGroupRequest): Promise<CreateGroupResponse> {
      const group = await groups.create(actor, req.name, req.memberIds, req.settings?.historyVisibleToNewMembers ?? false);
      return create(CreateGroupResponseSchema, { conversation: toConversation(group) });
    },
    async updateGroup(actor: Actor, req: UpdateGroupRequest): Promise<UpdateGroupResponse> {
      const settings = req.settings ? { historyVisibleToNewMembers: req.settings.historyVisibleToNewMembers } : undefined;
      return create(UpdateGroupResponseSchema, { conversation: toConversation(await groups.update(actor, req.conversationId, req.name, settings)) });
    },
    async addMembers(actor: Actor, req: AddMembersRequest): Promise<AddMembersResponse> {
      return create(AddMembersResponseSchema, { conversation: toConversation(await groups.addMembers(actor, req.conversationId, req.userIds)) });
    },
    async removeMember(actor: Actor, req: RemoveMemberRequest): Promise<RemoveMemberResponse> {
      await groups.removeMember(actor, req.conversationId, req.userId);
      return create(RemoveMemberResponseSchema, {});
    },
    async setMemberRole(actor: Actor, req: SetMemberRoleRequest): Promise<SetMemberRoleResponse> {
      const group = await groups.setRole(actor, req.conversationId, req.userId, roleFromMessage(req.role));
      return create(SetMemberRoleResponseSchema, { conversation: toConversation(group) });
    },
    async deleteGroup(actor: Actor, req: DeleteGroupRequest): Promise<DeleteGroupResponse> {
      await groups.delete(actor, req.conversationId);
      return create(DeleteGroupResponseSchema, {});
    },
    async editMessage(actor: Actor, req: EditMessageRequest): Promise<EditMessageResponse> {
      const outcome = await chat.editMessage(actor, req.conversationId, req.messageId, req.text);
      return create(EditMessageResponseSchema, { message: toMessage(outcome.message), seq: outcome.actorSeq, unchanged: !outcome.changed });
    },
    async deleteMessage(actor: Actor, req: DeleteMessageRequest): Promise<DeleteMessageResponse> {
      const outcome = await chat.deleteMessage(actor, req.conversationId, req.messageId, req.forEveryone);
      return create(DeleteMessageResponseSchema, { seq: outcome.actorSeq, unchanged: !outcome.changed });
    },
    async searchMessages(actor: Actor, req: SearchMessagesRequest): Promise<SearchMessagesResponse> {
      const page = await chat.searchMessages(actor, req);
      return create(SearchMessagesResponseSchema, { hits: page.hits.map(toSearchHit), nextBeforeMessageId: page.nextBeforeMessageId });
    },

    async react(actor: Actor, req: ReactRequest): Promise<ReactResponse> {
      const outcome = await chat.react(actor, req.conversationId, req.messageId, req.emoji, req.remove);
      return create(ReactResponseSchema, { reactions: outcome.counts.map(toReactionCount), seq: outcome.actorSeq, unchanged: !outcome.changed });
    },
  });
}

type Command = (actor: Actor, req: never) => Promise<unknown>;

/**
 * Each command first checks the rules every request shares (64-bit ids fit
 * SQL bigint, no NUL in text: firstFieldProblem) on its request, so bad input
 * is INVALID_ARGUMENT naming the field, whichever path it came by, before
 * the domain or the store sees it. Commands are named as the RPCs whose
 * request they take.
 */
function checked<T extends Record<string, Command>>(commands: T): T {
  const guarded: Record<string, Command> = {};
  for (const [name, run] of Object.entries(commands)) {
    const schema = ChatService.method[name as keyof typeof ChatService.method].input;
    // Not async: the command's own promise is the answer, one promise fewer per command.
    guarded[name] = (actor, req) => {
      const problem = firstFieldProblem(schema, req);
      if (problem) return Promise.reject(new InvalidInput(problem.field, problem.rule));
      return run(actor, req);
    };
  }
  return guarded as T;
}

export type ChatCommands = ReturnType<typeof chatCommands>;
