import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fencingMarginMs, keepAliveIntervalMs, LeaseClock, type Clocks } from "../src/lease-clock.js";

class FakeClocks implements Clocks {
  mono = 1_000;
  wallMs = Date.UTC(2026, 0, 1);
  monotonic = () => this.mono;
  wall = () => this.wallMs;
  advance(ms: number): void {
    this.mono += ms;
    this.wallMs += ms;
  }
}

describe("lease clock (fencing)", () => {
  it("uses a margin of max(1 s, ttl / 5) and keeps alive three times per validity window", () => {
    assert.equal(fencingMarginMs(10), 2000);
    assert.equal(fencingMarginMs(2), 1000);
    assert.equal(fencingMarginMs(60), 12_000);
    assert.equal(keepAliveIntervalMs(10), 8000 / 3);
  });

  it("is invalid before the first confirmation", () => {
    assert.equal(new LeaseClock(10, new FakeClocks()).isValid(), false);
  });

  it("stays valid until ttl - margin after the confirmed request was sent, not answered", () => {
    const clocks = new FakeClocks();
    const clock = new LeaseClock(10, clocks);
    const sent = clock.stamp();
    clocks.advance(3000); // a slow answer
    clock.confirm(sent);
    clocks.advance(4999);
    assert.equal(clock.isValid(), true, "7999 ms after sending");
    clocks.advance(1);
    assert.equal(clock.isValid(), false, "8000 ms after sending: fenced");
  });

  it("fences on the wall clock too, for a host that was suspended", () => {
    const clocks = new FakeClocks();
    const clock = new LeaseClock(10, clocks);
    clock.confirm(clock.stamp());
    clocks.wallMs += 60_000; // the monotonic clock stood still while suspended
    assert.equal(clock.isValid(), false);
  });

  it("fences on the monotonic clock when the wall clock steps back", () => {
    const clocks = new FakeClocks();
    const clock = new LeaseClock(10, clocks);
    clock.confirm(clock.stamp());
    clocks.advance(9000);
    clocks.wallMs -= 30_000;
    assert.equal(clock.isValid(), false);
  });

  it("reports whether a confirmation followed a lapse", () => {
    const clocks = new FakeClocks();
    const clock = new LeaseClock(3, clocks); // window 2 s
    assert.equal(clock.confirm(clock.stamp()), false, "the grant itself follows nothing");
    clocks.advance(1000);
    assert.equal(clock.confirm(clock.stamp()), true);
    clocks.advance(2500);
    const late = clock.stamp();
    assert.equal(clock.confirm(late), false, "sent after the window had closed");
    assert.equal(clock.isValid(), true, "valid again, for the caller to re-check what it holds");
  });

  it("ignores a confirmation older than the one it has", () => {
    const clocks = new FakeClocks();
    const clock = new LeaseClock(10, clocks);
    const old = clock.stamp();
    clocks.advance(5000);
    clock.confirm(clock.stamp());
    clock.confirm(old);
    clocks.advance(7000);
    assert.equal(clock.isValid(), true);
  });

  it("refuses a TTL below 2 s, which leaves no room for a margin", () => {
    assert.throws(() => new LeaseClock(1), RangeError);
  });
});
