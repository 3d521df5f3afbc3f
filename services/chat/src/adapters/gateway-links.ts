import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { DeliverService, DeliverRequestSchema, type DeliverRequest, type Delivery } from "@parley/contracts/parley/gateway/v1/deliver";
import type { GatewayHello } from "@parley/contracts/parley/chat/v1/chat";
import { AsyncQueue, TickBatcher, type Logger } from "@parley/runtime";

/** How long a counted delivery waits for a gateway's result; a gateway silent for longer is counted as holding no device. */
export const RESULT_WAIT_MS = 1_000;

/** One connected gateway: a long-lived Deliver stream fed in batches. */
class GatewayLink {
  private readonly requests = new AsyncQueue<DeliverRequest>();
  private readonly batcher = new TickBatcher<Delivery>((deliveries) => this.requests.push(create(DeliverRequestSchema, { deliveries })));
  private readonly abort = new AbortController();
  /** Counted deliveries waiting for their result: how many devices took each. */
  private readonly counting = new Map<bigint, (devices: number) => void>();

  constructor(
    readonly id: string,
    transport: Transport,
    logger: Logger,
  ) {
    const client = createClient(DeliverService, transport);
    void (async () => {
      try {
        // Results report which devices took each frame; only counted deliveries wait for them.
        for await (const response of client.deliver(this.requests, { signal: this.abort.signal })) {
          for (const result of response.results) this.counting.get(result.deliveryId)?.(result.deliveredDeviceIds.length);
        }
      } catch (err) {
        if (!this.abort.signal.aborted) logger.warn({ err, gateway: id }, "deliver stream to gateway ended");
      }
      for (const settle of this.counting.values()) settle(0);
    })();
  }

  /** Delivers, then tells how many devices took the frame (0 when the gateway does not answer within RESULT_WAIT_MS). */
  deliverCounted(delivery: Delivery): Promise<number> {
    return new Promise((resolve) => {
      const settle = (devices: number) => {
        clearTimeout(timer);
        this.counting.delete(delivery.deliveryId);
        resolve(devices);
      };
      const timer = setTimeout(() => settle(0), RESULT_WAIT_MS);
      this.counting.set(delivery.deliveryId, settle);
      this.deliver(delivery);
    });
  }

  deliver(delivery: Delivery): void {
    this.batcher.add(delivery);
  }

  close(): void {
    this.requests.close();
    this.abort.abort();
  }
}

/**
 * The gateways chat can deliver to: those with an open Stream. The delivery
 * worker asks presence which gateway holds which device and writes to those;
 * when presence cannot answer it falls back to every gateway (each writes to
 * the devices it holds), trading bandwidth for never stalling delivery.
 */
export class Gateways {
  private readonly links = new Map<string, GatewayLink>();

  constructor(
    private readonly transportFor: (hello: GatewayHello) => Transport | undefined,
    private readonly logger: Logger,
  ) {}

  /** Registers a gateway; returns what to call when its Stream ends. */
  join(hello: GatewayHello): () => void {
    this.links.get(hello.gatewayId)?.close();
    const transport = this.transportFor(hello);
    if (transport === undefined) {
      this.logger.warn({ gateway: hello.gatewayId }, "gateway gave no deliver address; its devices get no live delivery");
      return () => {};
    }
    const link = new GatewayLink(hello.gatewayId, transport, this.logger);
    this.links.set(hello.gatewayId, link);
    this.logger.info({ gateway: hello.gatewayId, address: hello.deliverAddress || "in-process" }, "gateway joined");
    return () => {
      if (this.links.get(hello.gatewayId) !== link) return;
      link.close();
      this.links.delete(hello.gatewayId);
      this.logger.info({ gateway: hello.gatewayId }, "gateway left");
    };
  }

  /** Every gateway: the fallback while presence cannot say where devices are. */
  broadcast(delivery: Delivery): void {
    for (const link of this.links.values()) link.deliver(delivery);
  }

  /** broadcast(), then how many devices took the frame over every gateway: 0 means the user has none connected. */
  async broadcastCounted(delivery: Delivery): Promise<number> {
    const counts = await Promise.all([...this.links.values()].map((link) => link.deliverCounted(delivery)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** One gateway; false when it has no open Stream here. */
  deliverTo(gatewayId: string, delivery: Delivery): boolean {
    const link = this.links.get(gatewayId);
    link?.deliver(delivery);
    return link !== undefined;
  }

  close(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }
}
