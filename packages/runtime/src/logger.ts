import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Secrets and message text never reach a log line:
 * the redaction list covers the field names under which they could travel.
 */
export function createLogger(service: string, level: string = "info"): Logger {
  return pino({
    level,
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
  });
}
