import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { until } from "@parley/testkit";
import { DuplicateInstance, InvalidInstance } from "../src/errors.js";
import type { InstanceInfo } from "../src/instance.js";
import type { Registry } from "../src/ports.js";
import { gateway, ids, instance } from "./support.js";

export interface RegistryFixture {
  /** A registry client of its own (as another process would have) on the shared backend. */
  newRegistry(): Registry;
  cleanup(): Promise<void>;
}

/** The Registry contract (see its doc comment), run against every adapter. */
export function describeRegistryContract(name: string, open: () => Promise<RegistryFixture>): void {
  describe(`registry contract (${name})`, () => {
    let fixture: RegistryFixture;
    const registries: Registry[] = [];
    const client = () => {
      const registry = fixture.newRegistry();
      registries.push(registry);
      return registry;
    };
    before(async () => {
      fixture = await open();
    });
    after(async () => {
      for (const registry of registries) await registry.close();
      await fixture?.cleanup();
    });

    it("registers an instance and lists it with its address, zone and load", async () => {
      const registry = client();
      const chat = instance({ service: "chat", instanceId: "chat-1", address: "10.0.0.9:7003", zone: "eu-1a", load: 3, capacity: 10 });
      const registration = await registry.register(chat);
      assert.deepEqual(registration.instance, chat);
      assert.deepEqual(await registry.list("chat"), [chat]);
      await registration.close();
    });

    it("lists only the asked service, or every service, sorted by service and instance id", async () => {
      const registry = client();
      const registered = await Promise.all([
        registry.register(instance({ service: "presence", instanceId: "p-2" })),
        registry.register(instance({ service: "presence", instanceId: "p-1" })),
        registry.register(instance({ service: "account", instanceId: "a-1" })),
      ]);
      assert.deepEqual(ids(await registry.list("presence")), ["p-1", "p-2"]);
      assert.deepEqual(ids(await registry.list()), ["a-1", "p-1", "p-2"]);
      assert.deepEqual(await registry.list("nothing"), []);
      for (const r of registered) await r.close();
    });

    it("refuses malformed addresses with InvalidInstance and stores nothing", async () => {
      const registry = client();
      for (const address of ["localhost", "10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "http://10.0.0.1:80", "host name:80", ":80", ""]) {
        await assert.rejects(
          registry.register(instance({ service: "notify", instanceId: "bad", address })),
          (err) => err instanceof InvalidInstance && /address must be host:port/.test(err.message),
          `address "${address}"`,
        );
      }
      assert.deepEqual(await registry.list("notify"), []);
    });

    it("refuses a gateway without a ws:// or wss:// public URL or without capacity", async () => {
      const registry = client();
      for (const bad of [{ publicUrl: "" }, { publicUrl: "http://gw.example.com/ws" }, { publicUrl: "wss://user:secret@gw.example.com/ws" }, { capacity: 0 }]) {
        await assert.rejects(registry.register(gateway("gw-bad", bad)), InvalidInstance, JSON.stringify(bad));
      }
      await assert.rejects(
        registry.register(gateway("gw-bad", { publicUrl: "wss://user:secret@gw.example.com/ws" })),
        (err: Error) => !err.message.includes("secret"),
      );
      assert.deepEqual(await registry.list("gateway"), []);
    });

    it("refuses an instance id that another live registration holds", async () => {
      const first = await client().register(instance({ service: "idgen", instanceId: "same" }));
      await assert.rejects(client().register(instance({ service: "idgen", instanceId: "same", address: "10.0.0.5:1" })), DuplicateInstance);
      assert.deepEqual(await client().list("idgen"), [first.instance]);
      await first.close();
    });

    it("stores load, capacity and draining updates before resolving, and watchers see them", async () => {
      const registry = client();
      const registration = await registry.register(gateway("gw-load", { zone: "z1" }));
      const seen: InstanceInfo[][] = [];
      const watch = await client().watch("gateway", (set) => seen.push([...set]));
      await registration.update({ load: 42 });
      assert.equal((await registry.list("gateway"))[0]?.load, 42);
      await registration.update({ draining: true, capacity: 200 });
      const stored = (await registry.list("gateway"))[0];
      assert.equal(stored?.draining, true);
      assert.equal(stored?.capacity, 200);
      await until(() => watch.current()[0]?.draining === true, "the watcher to see draining");
      assert.ok(
        seen.some((set) => set[0]?.load === 42),
        "the watcher saw the load update",
      );
      await assert.rejects(registration.update({ load: -1 }), InvalidInstance);
      await watch.close();
      await registration.close();
    });

    it("watch delivers the live set at once, then additions and removals", async () => {
      const registry = client();
      const a = await registry.register(instance({ service: "chat", instanceId: "w-a" }));
      const watch = await client().watch("chat");
      assert.deepEqual(ids(watch.current()), ["w-a"]);
      assert.equal(watch.connected, true);
      const b = await registry.register(instance({ service: "chat", instanceId: "w-b" }));
      await until(() => watch.current().length === 2, "w-b to appear");
      await a.close();
      await until(() => ids(watch.current()).join() === "w-b", "w-a to disappear");
      await b.close();
      await until(() => watch.current().length === 0, "the set to empty");
      await watch.close();
    });

    it("deregisters on close: gone from lists at once, and closing twice is harmless", async () => {
      const registry = client();
      const registration = await registry.register(instance({ service: "account", instanceId: "bye" }));
      await registration.close();
      await registration.close();
      assert.deepEqual(await registry.list("account"), []);
    });

    it("holds its lease while something is registered, and not before or after close", async () => {
      const registry = fixture.newRegistry();
      assert.equal(registry.holdsLease(), false, "holds a lease before registering anything");
      await registry.register(instance({ service: "presence", instanceId: "leased" }));
      assert.equal(registry.holdsLease(), true);
      await registry.close();
      assert.equal(registry.holdsLease(), false, "holds a lease after close");
    });

    it("deregisters everything it registered when the registry closes", async () => {
      const registry = fixture.newRegistry();
      await registry.register(instance({ service: "presence", instanceId: "closing-1" }));
      await registry.register(instance({ service: "presence", instanceId: "closing-2" }));
      await registry.close();
      assert.deepEqual(await client().list("presence"), []);
    });
  });
}
