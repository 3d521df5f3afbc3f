import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { until } from "@parley/testkit";
import { MemoryRegistry } from "../src/adapters/memory-registry.js";
import { InvalidInstance } from "../src/errors.js";
import { newInstanceId, validateInstance } from "../src/instance.js";
import { reportLoad } from "../src/load-reporter.js";
import { gateway, instance } from "./support.js";

describe("instance validation", () => {
  it("accepts DNS names, IPv4 and bracketed IPv6 addresses with a port", () => {
    for (const address of ["chat-0.chat.parley.svc:7003", "10.1.2.3:1", "[::1]:65535", "localhost:7002"]) {
      assert.equal(validateInstance(instance({ service: "chat", instanceId: "c", address })).address, address);
    }
  });

  it("lists every problem of an instance at once", () => {
    assert.throws(
      () => validateInstance({ service: "Gate Way", instanceId: "a/b", address: "x", zone: "eu west", load: -1 }),
      (err) => err instanceof InvalidInstance && err.problems.length === 5,
    );
  });

  it("fills the optional fields with empty values", () => {
    assert.deepEqual(validateInstance({ service: "idgen", instanceId: "i", address: "h:1" }), {
      service: "idgen",
      instanceId: "i",
      address: "h:1",
      zone: "",
      load: 0,
      capacity: 0,
      draining: false,
      publicUrl: "",
    });
  });

  it("makes instance ids that differ per call and pass validation", () => {
    const a = newInstanceId("gateway");
    assert.notEqual(a, newInstanceId("gateway"));
    assert.doesNotThrow(() => validateInstance(gateway(a)));
  });
});

describe("load reporter", () => {
  it("publishes the load when it changes, and nothing when it does not", async () => {
    const registry = new MemoryRegistry();
    const registration = await registry.register(gateway("gw-report"));
    let load = 0;
    let writes = 0;
    const update = registration.update.bind(registration);
    registration.update = async (change) => {
      writes++;
      await update(change);
    };
    let probes = 0;
    const stop = reportLoad(
      registration,
      () => {
        probes++;
        return load;
      },
      10,
    );
    // Each probe is a tick that compared the load: after a few, an unchanged load would have been written.
    await until(() => probes >= 5, "five ticks of the reporter");
    assert.equal(writes, 0, "unchanged load is not written");
    load = 17;
    await until(async () => (await registry.list("gateway"))[0]?.load === 17, "the load to be published");
    stop();
    await registry.close();
  });
});
