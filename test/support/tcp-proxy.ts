import net from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Postgres), which a test
 * cuts to simulate an outage: cut() stops listening, so new connections are
 * refused, and resets every open connection, as a crashed server or a broken
 * network would; restore() listens again on the same port.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | undefined;

  private constructor(
    private readonly target: { host: string; port: number },
    private portNumber: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.portNumber;
  }

  /** Whether connections are being accepted. */
  get up(): boolean {
    return this.server !== undefined;
  }

  /** Refuses new connections and resets the open ones. */
  cut(): void {
    this.refuseNew();
    this.resetOpen();
  }

  /** Stops listening (at once: the port refuses connections); open connections carry on until resetOpen(). */
  refuseNew(): void {
    this.server?.close();
    this.server = undefined;
  }

  /** Resets every open connection (the client sees ECONNRESET). */
  resetOpen(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen();
  }

  close(): void {
    this.cut();
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => this.pipe(client));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.portNumber, "127.0.0.1", () => {
        server.off("error", reject);
        this.portNumber = (server.address() as AddressInfo).port;
        this.server = server;
        resolve();
      });
    });
  }

  private pipe(client: net.Socket): void {
    if (!this.server) return void client.resetAndDestroy();
    const upstream = net.connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      // Either side failing takes the other down, as a real broken connection would.
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
