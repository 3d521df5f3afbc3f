import net from "node:net";

/** Ports in 20000-32767 that nothing listens on now (below the ephemeral range, see STACK-NOTES). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 200) throw new Error("found no free port");
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (!ports.includes(port) && (await bindable(port))) ports.push(port);
  }
  return ports;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
