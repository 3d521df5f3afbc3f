import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { PresenceService, StatusRelaySchema, type StatusRelay, type UserPresence } from "@parley/contracts/parley/presence/v1/presence";
import { TickBatcher, type Logger } from "@parley/runtime";
import type { PresencePeers, Relay } from "../ports.js";
import { FOLLOWERS_PER_RELAY_MAX, RELAYS_PER_CALL_MAX } from "../relay.js";

/** How long a call to another instance may take before it counts as failed. */
const PEER_TIMEOUT_MS = 5_000;

interface Peer {
  client: Client<typeof PresenceService>;
  relays: TickBatcher<StatusRelay>;
}

/**
 * The other presence instances over the internal plane: one client per
 * address (kept while the process lives; instances are few), relays batched
 * per turn into RelayStatuses calls within its limits.
 */
export class ConnectPeers implements PresencePeers {
  private readonly peers = new Map<string, Peer>();

  constructor(
    private readonly transport: (address: string) => Transport,
    private readonly logger: Logger,
  ) {}

  relay(address: string, { presence, followerIds }: Relay): void {
    const peer = this.peer(address);
    for (let i = 0; i < followerIds.length; i += FOLLOWERS_PER_RELAY_MAX) {
      peer.relays.add(create(StatusRelaySchema, { presence, followerIds: followerIds.slice(i, i + FOLLOWERS_PER_RELAY_MAX) }));
    }
  }

  async getPresence(address: string, viewerId: bigint, userIds: readonly bigint[]): Promise<UserPresence[]> {
    return (await this.peer(address).client.getPresence({ viewerId, userIds: [...userIds] }, { timeoutMs: PEER_TIMEOUT_MS })).presences;
  }

  private peer(address: string): Peer {
    let peer = this.peers.get(address);
    if (peer === undefined) {
      const client = createClient(PresenceService, this.transport(address));
      const relays = new TickBatcher<StatusRelay>((batch) => {
        for (let i = 0; i < batch.length; i += RELAYS_PER_CALL_MAX) {
          client.relayStatuses({ relays: batch.slice(i, i + RELAYS_PER_CALL_MAX) }, { timeoutMs: PEER_TIMEOUT_MS }).catch((err: unknown) => {
            this.logger.warn({ err, address, relays: batch.length }, "relaying status changes to another presence instance failed");
          });
        }
      });
      peer = { client, relays };
      this.peers.set(address, peer);
    }
    return peer;
  }
}
