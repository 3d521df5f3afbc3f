import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@parley/contracts/grpc/health/v1/health";
import { until } from "@parley/testkit";

/** A plain-HTTP probe's status and text. */
export async function probe(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: (await res.text()).trim() };
}

/** The server's health status for "" (the whole server), asked over a new cleartext gRPC connection. */
export async function wholeServer(url: string): Promise<Status> {
  return (await createClient(Health, createGrpcTransport({ baseUrl: url })).check({ service: "" })).status;
}

/** Waits until /readyz answers `status` and `text`, and the health service's "" status agrees with it. */
export function readyzSays(url: string, status: 200 | 503, text: string): Promise<true> {
  const serving = status === 200 ? Status.SERVING : Status.NOT_SERVING;
  let last = "";
  return until(
    async () => {
      const readyz = await probe(`${url}/readyz`);
      const health = await wholeServer(url);
      last = `${readyz.status} "${readyz.text}", health ${Status[health]}`;
      return readyz.status === status && readyz.text === text && health === serving;
    },
    () => `${url}/readyz to answer ${status} "${text}" (last: ${last})`,
  );
}
