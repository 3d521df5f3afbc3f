import { createClient, type Transport } from "@connectrpc/connect";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { dependencyFailure } from "@parley/runtime";
import type { IdSource } from "../ports.js";

/**
 * Ids from the idgen service. Requests that arrive while a call is in flight
 * are served together by the next call (one NextIds for many sends), so a
 * burst costs one round trip, while an id is never taken long before it is
 * used (which would skew message order against time).
 */
export class IdgenIdSource implements IdSource {
  private readonly client;
  private waiting: { resolve: (id: bigint) => void; reject: (err: unknown) => void }[] = [];
  private inFlight = false;

  constructor(transport: Transport) {
    this.client = createClient(IdGenService, transport);
  }

  next(): Promise<bigint> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.inFlight) void this.fetch();
    });
  }

  private async fetch(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, 4096);
      try {
        const { ids } = await this.client.nextIds({ count: batch.length });
        batch.forEach((waiter, i) => waiter.resolve(ids[i]!));
      } catch (err) {
        const failure = dependencyFailure("the id service", err);
        for (const waiter of batch) waiter.reject(failure);
      }
    }
    this.inFlight = false;
  }
}
