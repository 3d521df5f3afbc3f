import type { EventEmitter } from "node:events";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { SessionEndReason, type WatchAccountEventsResponseSchema } from "@parley/contracts/parley/account/v1/account";
import type { AccountEvents, SessionsEnded } from "./domain/accounts.js";

export type AccountEventMessage = MessageInitShape<typeof WatchAccountEventsResponseSchema>;

/**
 * Every kind of account event as one stream, in the order they were emitted,
 * until `signal` aborts; then it ends without an error. `node:events`' `on()`
 * watches a single event name, and several of them side by side could not keep
 * the order between kinds, hence one queue fed by a listener per kind.
 *
 * The listeners are removed when the stream ends, however it ends (abort,
 * or the consumer returning early). The queue is unbounded, as with `on()`:
 * events are small and rare next to the RPCs that cause them.
 */
export async function* accountEventStream(events: EventEmitter<AccountEvents>, signal: AbortSignal): AsyncGenerator<AccountEventMessage> {
  const queue: AccountEventMessage[] = [];
  let wake = () => {};
  const push = (message: AccountEventMessage) => {
    queue.push(message);
    wake();
  };
  const onDeviceLoggedOut = (userId: bigint, deviceId: bigint) => push({ event: { case: "deviceLoggedOut", value: { userId, deviceId } } });
  const onTargetsChanged = (userId: bigint) => push({ event: { case: "notificationTargetsChanged", value: { userId } } });
  const onSessionsEnded = (ended: SessionsEnded) => push({ event: { case: "sessionsEnded", value: { ...ended, reason: REASONS[ended.reason] } } });
  const onBlocksChanged = (userId: bigint, otherUserId: bigint, blocked: boolean) =>
    push({ event: { case: "blocksChanged", value: { userId, otherUserId, blocked } } });
  const onAbort = () => wake();
  events.on("sessionsEnded", onSessionsEnded);
  events.on("deviceLoggedOut", onDeviceLoggedOut);
  events.on("notificationTargetsChanged", onTargetsChanged);
  events.on("blocksChanged", onBlocksChanged);
  signal.addEventListener("abort", onAbort);
  try {
    while (!signal.aborted) {
      const next = queue.shift();
      if (next !== undefined) yield next;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    events.off("sessionsEnded", onSessionsEnded);
    events.off("deviceLoggedOut", onDeviceLoggedOut);
    events.off("notificationTargetsChanged", onTargetsChanged);
    events.off("blocksChanged", onBlocksChanged);
    signal.removeEventListener("abort", onAbort);
  }
}

const REASONS: Record<SessionsEnded["reason"], SessionEndReason> = {
  logged_out: SessionEndReason.LOGGED_OUT,
  revoked: SessionEndReason.REVOKED,
  replaced: SessionEndReason.REPLACED,
  password_changed: SessionEndReason.PASSWORD_CHANGED,
  account_disabled: SessionEndReason.ACCOUNT_DISABLED,
};
