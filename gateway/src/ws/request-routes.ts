import type { Command } from "@parley/contracts/parley/chat/v1/chat";
import type { ClientFrame } from "@parley/contracts/parley/client/v1/client";

type ClientBody = ClientFrame["body"];

/** A kind of request a device can send: a case of the ClientFrame oneof. */
export type RequestCase = NonNullable<ClientBody["case"]>;

/** The body of a request frame of some kinds. */
export type Request<K extends RequestCase = RequestCase> = Extract<ClientBody, { case: K }>;

/**
 * The requests chat serves: the ClientFrame cases that are also chat Command
 * ops. Both oneofs embed the same request messages under the same names, so
 * such a body is a Command op as it is, and goes to chat unchanged.
 */
export type ChatRequest = Request<RequestCase & NonNullable<Command["op"]["case"]>>;

/**
 * Every request but a heartbeat waits its turn in the user's lane, then goes
 * where ROUTES says. A heartbeat is answered by the connection on arrival,
 * at no upstream cost, never queued behind the user's requests.
 */
export type QueuedCase = Exclude<RequestCase, "heartbeat">;

/** A frame whose request waits in the user's lane. */
export type QueuedFrame = ClientFrame & { readonly body: Request<QueuedCase> };

/** Where queued requests end up: a device's connection. */
export interface RequestTargets {
  /** Asks presence about some users and writes the PresenceList. */
  answerPresence(id: bigint, userIds: bigint[]): Promise<void>;
  /** Runs the request as the chat Command op of the same name and writes chat's reply; `receivedAt` (performance.now()) times a send's ack. */
  answerFromChat(id: bigint, request: ChatRequest, receivedAt: number): Promise<void>;
}

/**
 * The routing table, one entry per queued case of the ClientFrame oneof
 * (its type is a mapped type over the oneof's cases): a case added to
 * client.proto without a route here does not compile, and neither does a
 * route to chat for a case that is not a chat Command op.
 */
const ROUTES: { readonly [K in QueuedCase]: (to: RequestTargets, id: bigint, request: Request<K>, receivedAt: number) => Promise<void> } = {
  getPresence: (to, id, request) => to.answerPresence(id, request.value.userIds),
  send: toChat,
  sync: toChat,
  history: toChat,
  markRead: toChat,
  ackCursor: toChat,
  setTyping: toChat,
  listConversations: toChat,
  openDirect: toChat,
  getConversation: toChat,
  createGroup: toChat,
  updateGroup: toChat,
  addMembers: toChat,
  removeMember: toChat,
  setMemberRole: toChat,
  deleteGroup: toChat,
  getReceipts: toChat,
  editMessage: toChat,
  deleteMessage: toChat,
  searchMessages: toChat,
  react: toChat,
};

function toChat(to: RequestTargets, id: bigint, request: ChatRequest, receivedAt: number): Promise<void> {
  return to.answerFromChat(id, request, receivedAt);
}

/** Hands a queued request to its target; `receivedAt` is when its frame arrived (performance.now()). */
export function route(to: RequestTargets, frame: QueuedFrame, receivedAt: number): Promise<void> {
  return routeCase(to, frame.id, frame.body.case, frame.body, receivedAt);
}

/** Generic in the case, so TypeScript relates the table's entry to the request (a correlated union). */
function routeCase<K extends QueuedCase>(to: RequestTargets, id: bigint, kind: K, request: Request<K>, receivedAt: number): Promise<void> {
  return ROUTES[kind](to, id, request, receivedAt);
}
