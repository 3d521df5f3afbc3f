import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { DeliverService, DeliverRequestSchema, type DeliverRequest, type Delivery } from "@parley/contracts/parley/gateway/v1/deliver";
import type { GatewayHello } from "@parley/contracts/parley/chat/v1/chat";
import { AsyncQueue, TickBatcher, type Logger } from "@parley/runtime";

/** One connected gateway: a long-lived Deliver stream fed in batches. */
class GatewayLink {
  private readonly requests = new AsyncQueue<DeliverRequest>();
  private readonly batcher = new TickBatcher<Delivery>((deliveries) => this.requests.push(create(DeliverRequestSchema, { deliveries })));
  private readonly abort = new AbortController();

  constructor(
    readonly id: string,
    transport: Transport,
    logger: Logger,
  ) {
    const client = createClient(DeliverService, transport);
    void (async () => {
      try {
        // Results report which devices took each frame; push fallback will use them.
        for await (const _ of client.deliver(this.requests, { signal: this.abort.signal })) void _;
      } catch (err) {
        if (!this.abort.signal.aborted) logger.warn({ err, gateway: id }, "deliver stream to gateway ended");
      }
    })();
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
