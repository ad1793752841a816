import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Paths pino censors wherever they appear in a log object. Secrets must never reach logs;
 * callers still avoid logging credentials, this is the second line of defence.
 */
export const REDACTED_PATHS = [
  "clientSecret",
  "*.clientSecret",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "req.headers.authorization",
  "connectionString",
  "*.connectionString",
  "client_secret",
  "*.client_secret",
  "client_assertion",
  "*.client_assertion",
];

/** JSON lines on stderr (stdout carries data, e.g. the stdout sink). */
export function createLogger(
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      name: "auditbridge-collector",
      level: options.level ?? "info",
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
