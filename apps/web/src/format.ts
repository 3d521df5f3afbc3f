import { type Message, MemberRole } from "@parley/contracts/parley/chat/v1/chat";

/** A protobuf Timestamp as epoch milliseconds (undefined when absent). */
export function millis(ts: { seconds: bigint; nanos: number } | undefined): number | undefined {
  return ts === undefined ? undefined : Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6);
}

/** "14:05", or "3 Nov, 14:05" for another day. */
export function clock(ms: number | undefined): string {
  if (ms === undefined) return "";
  const date = new Date(ms);
  const time = date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return sameDay(date, new Date()) ? time : `${date.toLocaleDateString(undefined, { day: "numeric", month: "short" })}, ${time}`;
}

/** "just now", "5 min ago", "3 h ago", or a date. */
export function ago(ms: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return clock(ms);
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Names users by id; the caller resolves them (profiles.ts). */
export type NameOf = (userId: bigint) => string;

/** One line for a system message (group created, members added or removed...). */
export function systemText(message: Message, nameOf: NameOf): string {
  const event = message.system?.event;
  switch (event?.case) {
    case "groupCreated":
      return `${event.value.byUserId ? nameOf(event.value.byUserId) : "Someone"} created the group "${event.value.name}"`;
    case "membersAdded":
      return `${event.value.byUserId ? `${nameOf(event.value.byUserId)} added ` : ""}${event.value.userIds.map(nameOf).join(", ")}${event.value.byUserId ? "" : " joined"}`;
    case "memberRemoved":
      return event.value.left ? `${nameOf(event.value.userId)} left` : `${nameOf(event.value.userId)} was removed`;
    case "groupRenamed":
      return `The group was renamed "${event.value.name}"`;
    case "roleChanged":
      return `${nameOf(event.value.userId)} is now ${roleName(event.value.role)}`;
    case "groupDeleted":
      return "The group was deleted";
    default:
      return "The group changed";
  }
}

/** A role in words, for system messages. */
export function roleName(role: MemberRole): string {
  return role === MemberRole.OWNER ? "the owner" : role === MemberRole.ADMIN ? "an admin" : "a member";
}

/** What a message deleted for everyone shows instead of its text. */
export const TOMBSTONE_TEXT = "This message was deleted";

/** The text a conversation list shows for its last message. */
export function preview(message: Message | undefined, nameOf: NameOf, me: bigint): string {
  if (message === undefined) return "No messages yet";
  if (message.senderId === 0n) return systemText(message, nameOf);
  const who = message.senderId === me ? "You" : nameOf(message.senderId);
  if (message.deleted) return `${who}: ${TOMBSTONE_TEXT}`;
  const text = message.text.length > 80 ? `${message.text.slice(0, 79)}…` : message.text;
  return `${who}: ${text}`;
}
