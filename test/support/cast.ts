import type { ChatWorld } from "./chat-scenarios.js";
import { connectDevice, type Device } from "./sdk.js";

/**
 * The cast of the feature scenarios, logged in and connected: A's phone and
 * laptop, B's phone (on the JSON subprotocol, so both formats are exercised)
 * and C's phone.
 */
export async function castOfFour(world: ChatWorld, prefix: string) {
  const [a1, a2, b1, c1] = [
    await world.login(`${prefix}_a`, "phone"),
    await world.login(`${prefix}_a`, "laptop"),
    await world.login(`${prefix}_b`, "phone"),
    await world.login(`${prefix}_c`, "phone"),
  ];
  const online = await Promise.all([a1, a2, b1, c1].map((d, i) => connectDevice(world.gatewayUrl, d.token, { format: i === 2 ? "json" : "proto" })));
  const [alice, aliceLaptop, bob, carol] = online as [Device, Device, Device, Device];
  return { a1, a2, b1, c1, alice, aliceLaptop, bob, carol, online };
}
