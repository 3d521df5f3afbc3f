import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fallbackGateways, pickGateway } from "../src/pick-gateway.js";
import { gateway, instance } from "./support.js";

const first = () => 0;
const last = () => 0.999;

describe("pick gateway", () => {
  it("returns undefined when no gateway is registered", () => {
    assert.equal(pickGateway([instance({ service: "chat", instanceId: "c" })], ""), undefined);
  });

  it("never picks a draining gateway, even the only one", () => {
    assert.equal(pickGateway([gateway("g1", { draining: true })], ""), undefined);
    const picked = pickGateway([gateway("g1", { draining: true }), gateway("g2", { load: 99 })], "");
    assert.equal(picked?.instanceId, "g2");
  });

  it("leaves out the gateways the client asks to avoid, unless no other qualifies", () => {
    const gateways = [gateway("lost", { load: 0 }), gateway("other", { load: 90 })];
    assert.equal(pickGateway(gateways, "", first, ["wss://lost.example.com/ws"])?.instanceId, "other", "even a busier one");
    assert.equal(
      pickGateway(gateways, "", first, ["wss://lost.example.com/ws", "wss://other.example.com/ws"])?.instanceId,
      "lost",
      "all avoided: the best of them",
    );
    assert.equal(pickGateway([gateway("only")], "", first, ["wss://only.example.com/ws"])?.instanceId, "only");
    assert.equal(
      pickGateway([gateway("g1", { draining: true }), gateway("g2")], "", first, ["wss://g2.example.com/ws"])?.instanceId,
      "g2",
      "a draining one is never the way out",
    );
  });

  it("prefers the client's zone over a less loaded gateway elsewhere", () => {
    const gateways = [gateway("far", { zone: "b", load: 1 }), gateway("near", { zone: "a", load: 90 })];
    assert.equal(pickGateway(gateways, "a")?.instanceId, "near");
  });

  it("picks the lowest load relative to capacity, not the lowest load", () => {
    const gateways = [gateway("small", { load: 40, capacity: 50 }), gateway("big", { load: 100, capacity: 1000 })];
    assert.equal(pickGateway(gateways, "")?.instanceId, "big");
  });

  it("leaves the client's zone when every gateway there is full", () => {
    const gateways = [gateway("near", { zone: "a", load: 100, capacity: 100 }), gateway("far", { zone: "b", load: 70 })];
    assert.equal(pickGateway(gateways, "a")?.instanceId, "far");
  });

  it("still picks the least loaded full gateway when every one is full", () => {
    const gateways = [gateway("over", { load: 150, capacity: 100 }), gateway("full", { load: 100, capacity: 100 })];
    assert.equal(pickGateway(gateways, "")?.instanceId, "full");
  });

  it("ignores the zone when the client sent none or nobody is in it", () => {
    const gateways = [gateway("a", { zone: "a", load: 50 }), gateway("b", { zone: "b", load: 10 })];
    assert.equal(pickGateway(gateways, "")?.instanceId, "b");
    assert.equal(pickGateway(gateways, "c")?.instanceId, "b");
  });

  it("breaks exact ties at random among the tied gateways only", () => {
    const gateways = [gateway("t1", { load: 10 }), gateway("busy", { load: 20 }), gateway("t2", { load: 10 })];
    assert.equal(pickGateway(gateways, "", first)?.instanceId, "t1");
    assert.equal(pickGateway(gateways, "", last)?.instanceId, "t2");
    const seen = new Set(Array.from({ length: 200 }, () => pickGateway(gateways, "")?.instanceId));
    assert.deepEqual([...seen].sort(), ["t1", "t2"]);
  });
});

describe("fallback gateways", () => {
  const g = (id: string, overrides: Parameters<typeof gateway>[1] = {}) => gateway(id, { zone: "a", ...overrides });

  it("names up to three others, never the chosen, avoided or draining ones, the client's zone first", () => {
    const chosen = g("chosen");
    const all = [chosen, g("lost"), g("drain", { draining: true }), g("far1", { zone: "b" }), g("near1"), g("near2"), g("far2", { zone: "b" })];
    const picked = fallbackGateways(all, chosen, "a", first, ["wss://lost.example.com/ws"]).map((i) => i.instanceId);
    assert.equal(picked.length, 3);
    assert.deepEqual(picked.slice(0, 2).sort(), ["near1", "near2"], "same zone first");
    assert.ok(["far1", "far2"].includes(picked[2]!));
  });

  it("draws by free capacity, so one gateway's clients spread over the others", () => {
    const chosen = g("chosen");
    const all = [chosen, g("idle", { load: 0 }), g("busy", { load: 90 })];
    const firsts = new Map<string, number>();
    let seed = 1;
    // A fixed sequence (Park-Miller), so the test draws the same numbers every run.
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    for (let i = 0; i < 1_000; i++) {
      const id = fallbackGateways(all, chosen, "a", random)[0]!.instanceId;
      firsts.set(id, (firsts.get(id) ?? 0) + 1);
    }
    // Weights 1.0 and 0.1: about 91% idle first, 9% busy first.
    assert.ok(firsts.get("idle")! > 850 && firsts.get("busy")! > 40, JSON.stringify([...firsts]));
  });

  it("names none when the chosen is the only gateway", () => {
    const chosen = g("only");
    assert.deepEqual(fallbackGateways([chosen], chosen, "a"), []);
  });
});
