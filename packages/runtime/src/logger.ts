import { pino, type Logger } from "pino";
import { enableRequestContext, logContext } from "./tracing.js";

export type { Logger };

/**
 * Structured JSON logs. Secrets and message text never reach a log line:
 * the redaction list covers the field names under which they could travel.
 *
 * Lines go to stdout synchronously, each as it is logged. pino's default
 * writes asynchronously, and process.exit right after the last lines of a
 * stop ("stopped", "shutdown took too long; exiting", "failed to start")
 * dropped a write still in flight or let it land after later lines. Parley
 * logs little (starts, stops, warnings, failed calls), so the blocking writes
 * cost little.
 *
 * A line logged while a request is served carries its `request_id`, and
 * with tracing on its `trace_id` and `span_id` (./tracing.ts).
 */
export function createLogger(service: string, level: string = "info"): Logger {
  enableRequestContext();
  return pino(
    {
      level,
      // The request and trace a line is about, from the context it is logged in.
      mixin: logContext,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "password",
          "*.password",
          "token",
          "*.token",
          "accessToken",
          "*.accessToken",
          "refreshToken",
          "*.refreshToken",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "text",
          "*.text",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
