import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { IdGenService } from "@parley/contracts/parley/idgen/v1/idgen";
import { decodeId, type SnowflakeGenerator } from "./domain/snowflake.js";

export interface IdgenDeps {
  generator: SnowflakeGenerator;
}

/**
 * Builds the IdGenService handlers from their dependencies. Domain errors
 * pass through untouched; mapIdgenError turns them into statuses at the edge.
 */
export function createIdgenService(deps: IdgenDeps): {
  routes(router: ConnectRouter): void;
  serviceNames: string[];
} {
  const impl: ServiceImpl<typeof IdGenService> = {
    async nextIds(req) {
      // The generator refuses any count outside 1..4096 with InvalidCount,
      // including 0, which is what proto3 sends when count was not set.
      return { ids: await deps.generator.next(req.count) };
    },
    decodeId(req) {
      const parts = decodeId(req.id);
      return { time: timestampFromMs(parts.timeMs), workerId: parts.workerId, sequence: parts.sequence };
    },
  };
  return {
    routes: (router) => router.service(IdGenService, impl),
    serviceNames: [IdGenService.typeName],
  };
}
