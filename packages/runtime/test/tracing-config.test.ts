import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadEnv } from "../src/config.js";
import { traceparentOf, tracingEnv, tracingOn, tracingSettings } from "../src/tracing.js";

describe("tracing configuration (OTEL_* variables)", () => {
  it("is off without an endpoint, and then hands out no trace context", () => {
    const settings = tracingSettings(loadEnv(tracingEnv, {}));
    assert.equal(settings.tracesUrl, undefined);
    assert.equal(settings.sampleRatio, 1);
    assert.equal(tracingOn(), false);
    assert.equal(traceparentOf(), "");
  });

  it("posts to <endpoint>/v1/traces with the sample ratio and export delay given", () => {
    const settings = tracingSettings(
      loadEnv(tracingEnv, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/", OTEL_TRACES_SAMPLER_ARG: "0.25", OTEL_BSP_SCHEDULE_DELAY: "200" }),
    );
    assert.deepEqual(settings, { tracesUrl: "http://collector:4318/v1/traces", sampleRatio: 0.25, serviceName: undefined, exportDelayMs: 200 });
  });

  it("refuses bad values, naming each variable and its rule", () => {
    assert.throws(
      () => loadEnv(tracingEnv, { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318", OTEL_TRACES_SAMPLER_ARG: "2", OTEL_BSP_SCHEDULE_DELAY: "0" }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:\/\/ or https:\/\/ URL/);
        assert.match(err.message, /OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/);
        assert.match(err.message, /OTEL_BSP_SCHEDULE_DELAY: must be a whole number from 10 to 60000/);
        return true;
      },
    );
  });
});
