import net, { type AddressInfo } from "node:net";
import type { Content } from "../src/ports.js";

/** A loopback port nobody listens on (bound, then released), for "connection refused" cases. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The push content the provider tests send. */
export const pushContent: Content = {
  title: "Ada",
  body: "see you at 6",
  data: { conversationId: "123456789012345678" },
  collapseKey: "conv-123",
  badge: 3,
};
