import { fromBinary } from "@bufbuild/protobuf";
import { SystemEventSchema, type SystemEvent } from "@parley/contracts/parley/chat/v1/chat";
import type { StoredMessage } from "../ports.js";

/** What an "added to a group" push needs from a system message. */
export interface Addition {
  /** Who added the recipient. */
  byUserId: bigint;
  /** The group's name when the event carries it (creation); else read the conversation. */
  groupName: string | undefined;
}

/**
 * When `message` is the system message saying `recipientId` joined a group
 * because someone else added them (the group's creation or an addition),
 * who did it; undefined for every other message, for the adder's own entry
 * and for events stored before they recorded who acted.
 */
export function additionOf(message: StoredMessage, recipientId: bigint): Addition | undefined {
  if (message.senderId !== 0n || message.system === undefined) return undefined;
  let event: SystemEvent["event"];
  try {
    event = fromBinary(SystemEventSchema, message.system).event;
  } catch {
    return undefined;
  }
  if (event.case === "groupCreated" && event.value.memberIds.includes(recipientId)) {
    return actedBy(event.value.byUserId, recipientId, event.value.name);
  }
  if (event.case === "membersAdded" && event.value.userIds.includes(recipientId)) {
    return actedBy(event.value.byUserId, recipientId, undefined);
  }
  return undefined;
}

function actedBy(byUserId: bigint, recipientId: bigint, groupName: string | undefined): Addition | undefined {
  return byUserId === 0n || byUserId === recipientId ? undefined : { byUserId, groupName };
}
