import { create } from "@bufbuild/protobuf";
import { Channel, Kind, SendRequestSchema, type SendRequest } from "@parley/contracts/parley/notify/v1/notify";
import { cutToCodePoints } from "@parley/runtime";
import type { NewMessagePush } from "../ports.js";

/** What a new-message push says, gathered when it is handed off. */
export interface NewMessageContent {
  push: NewMessagePush;
  senderName: string;
  /** The group's name; undefined for a direct conversation. */
  groupName: string | undefined;
  /** The recipient's total unread count. */
  badge: number;
}

/**
 * The event id notify de-duplicates on: one per (message, recipient), so a
 * retry, or a redelivered bus event, never notifies twice.
 */
export function newMessageEventId(messageId: bigint, recipientId: bigint): string {
  return `message:${messageId}:${recipientId}`;
}

/** One key per conversation: a burst of messages in it replaces one notification on the device instead of stacking. */
export function conversationCollapseKey(conversationId: bigint): string {
  return `conversation:${conversationId}`;
}

/**
 * The longest preview chat passes on, in code points. Notify cuts previews
 * to the user's preview length (at most 500) and hides them per settings, so
 * chat does not cut to a length of its own; this bound is 4 times that
 * maximum, keeps the parameter under notify's 4,096-character limit
 * (a 100,000-character message would otherwise be refused), and keeps
 * queued hand-offs small.
 */
export const PREVIEW_MAX_CHARS = 2_000;

/**
 * The text cut to PREVIEW_MAX_CHARS code points, never inside a surrogate
 * pair. Leading whitespace goes first: a text opening with 2,000 blanks would
 * otherwise leave a blank preview.
 */
export function previewText(raw: string): string {
  return cutToCodePoints(raw.length <= PREVIEW_MAX_CHARS ? raw : raw.trimStart(), PREVIEW_MAX_CHARS);
}

/** The Send for a new message. */
export function newMessageRequest({ push, senderName, groupName, badge }: NewMessageContent): SendRequest {
  const { message, recipientId } = push;
  return create(SendRequestSchema, {
    eventId: newMessageEventId(message.messageId, recipientId),
    userId: recipientId,
    kind: Kind.NEW_MESSAGE,
    params: {
      conversation_id: String(message.conversationId),
      sender_name: senderName,
      preview: previewText(message.text),
      ...(groupName === undefined ? {} : { conversation_name: groupName }),
      // Tells notify the recipient is mentioned: it notifies them even in a conversation they muted.
      ...(message.mentionedUserIds?.includes(recipientId) ? { mentioned: "true" } : {}),
    },
    channels: [Channel.PUSH],
    collapseKey: conversationCollapseKey(message.conversationId),
    badge: Math.min(Math.max(0, Math.trunc(badge)), 0xffff_ffff),
  });
}

/** What an added-to-group push says. */
export interface AddedToGroupContent {
  recipientId: bigint;
  /** The system message announcing the addition. */
  messageId: bigint;
  conversationId: bigint;
  groupName: string;
  byName: string;
  badge: number;
}

/** The Send for "you were added to a group"; its own event id per (system message, recipient). */
export function addedToGroupRequest(c: AddedToGroupContent): SendRequest {
  return create(SendRequestSchema, {
    eventId: `added:${c.messageId}:${c.recipientId}`,
    userId: c.recipientId,
    kind: Kind.ADDED_TO_GROUP,
    params: { conversation_id: String(c.conversationId), group_name: c.groupName, by_name: c.byName },
    channels: [Channel.PUSH],
    collapseKey: conversationCollapseKey(c.conversationId),
    badge: Math.min(Math.max(0, Math.trunc(c.badge)), 0xffff_ffff),
  });
}
