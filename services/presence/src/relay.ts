import type { RelayStatusesRequest } from "@parley/contracts/parley/presence/v1/presence";
import { InvalidInput } from "./errors.js";
import type { PresenceHub } from "./hub.js";

/** Most relays in one RelayStatuses call; a sender splits a larger turn. */
export const RELAYS_PER_CALL_MAX = 1_000;
/** Most followers named by one relay; a sender splits a longer friend list into several relays. */
export const FOLLOWERS_PER_RELAY_MAX = 5_000;

/** RelayStatuses: checks the limits, then hands each change to the hub for the followers' devices held here. */
export function relayStatuses(hub: PresenceHub, request: RelayStatusesRequest): void {
  if (request.relays.length > RELAYS_PER_CALL_MAX) throw new InvalidInput("relays", `must hold at most ${RELAYS_PER_CALL_MAX} relays`);
  for (const [i, relay] of request.relays.entries()) {
    if (relay.presence === undefined) throw new InvalidInput(`relays[${i}].presence`, "is required");
    if (relay.followerIds.length > FOLLOWERS_PER_RELAY_MAX) {
      throw new InvalidInput(`relays[${i}].follower_ids`, `must name at most ${FOLLOWERS_PER_RELAY_MAX} users`);
    }
  }
  for (const relay of request.relays) hub.relayed(relay.presence!, relay.followerIds);
}
