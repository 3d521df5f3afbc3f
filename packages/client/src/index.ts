/**
 * @parley/client: the Parley SDK for Node and browsers. ParleyClient is the
 * entry point; the rest is exported for tests, custom transports and tools.
 */
export { ParleyClient, type ClientState, type SendOptions } from "./client.js";
export { PROBE_AFTER_MS, type ClientEvents, type DisconnectInfo, type ParleyClientOptions, type TokenReason } from "./options.js";
export { pickGateway, type DiscoveryOptions } from "./pick-gateway.js";
export { AuthenticationError, ClientClosedError, ConnectionClosedError, ParleyError } from "./errors.js";
export { Backoff, backoffDelay, backoffWindow, type BackoffOptions } from "./backoff.js";
export { InboxTracker, type InboxOffer, type InboxTrackerOptions } from "./inbox.js";
export {
  defaultSocketFactory,
  globalWebSocket,
  type ParleySocket,
  type SocketCloseInfo,
  type SocketFactory,
  type SocketListener,
  type SocketRequest,
} from "./socket.js";
export { wsPackageSocket, wsPackageSocketFrom } from "./ws-socket.js";
/** The protocol the SDK speaks (close codes and what each means, formats, codecs), for custom transports and tools. */
export * from "@parley/wire";
