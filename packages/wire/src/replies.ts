import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ClientFrameSchema, ServerFrame } from "@parley/contracts/parley/client/v1/client";

/** A request frame's body as create() accepts it. */
type ClientBodyInit = NonNullable<MessageInitShape<typeof ClientFrameSchema>["body"]>;
type ServerBody = ServerFrame["body"];
type ReplyCase = Exclude<ServerBody["case"], undefined>;

/** The requests a client can make: "send", "sync", "heartbeat", ... (the cases of the ClientFrame oneof). */
export type RequestKind = Exclude<ClientBodyInit["case"], undefined>;

/** The body of a request of a kind, as create() accepts it. */
export type RequestBody<K extends RequestKind> = Extract<ClientBodyInit, { case: K }>["value"];

/** The frame body of a request (TypeScript cannot relate a generic kind to its body on its own). */
export function requestBody<K extends RequestKind>(kind: K, value: RequestBody<K>): ClientBodyInit {
  return { case: kind, value } as ClientBodyInit;
}

/**
 * Which reply answers which request, as client.proto's comments state it.
 * The SDK matches replies by it; the gateway's routing tests check its
 * answers against it. Typed over the ClientFrame and ServerFrame
 * oneofs: a request case without an entry does not compile, and a request
 * with a reply case of its own name (every chat request) must name that one.
 */
export const REPLY_TO = {
  heartbeat: "pong",
  send: "send",
  sync: "sync",
  history: "history",
  markRead: "markRead",
  ackCursor: "ackCursor",
  setTyping: "setTyping",
  listConversations: "listConversations",
  openDirect: "openDirect",
  getPresence: "presenceList",
  getConversation: "getConversation",
  createGroup: "createGroup",
  updateGroup: "updateGroup",
  addMembers: "addMembers",
  removeMember: "removeMember",
  setMemberRole: "setMemberRole",
  deleteGroup: "deleteGroup",
  getReceipts: "getReceipts",
  editMessage: "editMessage",
  deleteMessage: "deleteMessage",
  searchMessages: "searchMessages",
  react: "react",
} as const satisfies { readonly [K in RequestKind]: K extends ReplyCase ? K : ReplyCase };

/** The reply to a request of a kind. */
export type ReplyOf<K extends RequestKind> = Extract<ServerBody, { case: (typeof REPLY_TO)[K] }>["value"];
