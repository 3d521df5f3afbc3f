import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@parley/runtime";
import { loadAccountConfig } from "../src/config.js";
import { inWords } from "../src/errors.js";
import { addressKey } from "../src/domain/limits/client-keys.js";

describe("account > brute-force limits", () => {
  it("counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4, so a fresh address per try gains nothing", () => {
    assert.equal(addressKey("2001:db8:1:2:aaaa::1"), addressKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"));
    assert.equal(addressKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
    assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
    assert.equal(addressKey("2001:db8::"), "2001:db8:0:0::/64");
    assert.equal(addressKey("::ffff:203.0.113.9"), "203.0.113.9");
    assert.equal(addressKey("64:ff9b::203.0.113.9"), "64:ff9b:0:0::/64");
    assert.equal(addressKey(undefined), addressKey(""), "calls naming no address share one budget");
  });

  it("says a wait in words, rounded up", () => {
    assert.equal(inWords(1), "1 second");
    assert.equal(inWords(45_000), "45 seconds");
    assert.equal(inWords(60_000), "1 minute");
    assert.equal(inWords(61_000), "2 minutes");
    assert.equal(inWords(3_600_000), "1 hour");
    assert.equal(inWords(7_200_001), "3 hours");
  });

  it("refuses a base lockout longer than the longest, naming the variables", () => {
    assert.throws(
      () => loadAccountConfig({ ACCOUNT_LOCKOUT_BASE_SECONDS: "600", ACCOUNT_USER_LOCKOUT_MAX_SECONDS: "300" }),
      (err: unknown) => err instanceof ConfigError && /ACCOUNT_LOCKOUT_BASE_SECONDS: must be at most/.test(err.problems[0]!),
    );
    assert.throws(
      () => loadAccountConfig({ ACCOUNT_LOGIN_FREE_FAILURES: "0" }),
      (err: unknown) => err instanceof ConfigError && /ACCOUNT_LOGIN_FREE_FAILURES: must be a whole number from 1/.test(err.problems[0]!),
    );
    assert.equal(loadAccountConfig({ ACCOUNT_SIGNUPS_PER_ADDRESS: "0" }).limits.signUpsPerAddressPerHour, 0);
  });
});
