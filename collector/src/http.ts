/**
 * The collector's operations endpoint: `GET /healthz` (ready only when every content type was
 * polled successfully recently), `GET /livez` (the process answers) and `GET /metrics`
 * (Prometheus text from prom-client).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { ContentType } from "../../domain/contentTypes";
import type { Logger } from "./log";

/** Added to twice the poll interval before a content type counts as stale (a slow poll is not a dead one). */
export const HEALTH_SLACK_MS = 60_000;

/** Health of one content type as `/healthz` reports it. */
export interface ContentTypeHealth {
  status: "ok" | "starting" | "stale" | "failing" | "misconfigured";
  /** Last successful poll (or progress during a long catch-up poll), ISO-8601 UTC. */
  lastSuccess?: string;
  /** Why the content type is not ok: one line, safe to show (no secrets). */
  cause?: string;
}

/**
 * What this process has delivered: the evidence `npm run verify` reads when no sink writes to a
 * workspace it can query (syslog, Splunk HEC).
 */
export interface DeliveryReport {
  /** The sinks every record goes to (AUDIT_SINK). */
  sinks: readonly string[];
  /** Records every sink acknowledged since `since`. */
  recordsDelivered: number;
  /** When this process started counting, ISO-8601 UTC. */
  since: string;
  /** The last commit of delivered records, ISO-8601 UTC. */
  lastDeliveryAt?: string;
}

export interface HealthReport {
  status: "ok" | "unavailable";
  contentTypes: Partial<Record<ContentType, ContentTypeHealth>>;
  /** A process-wide cause (e.g. the state store or token endpoint), when there is one. */
  cause?: string;
  /** Delivery counters, when the monitor knows the sinks. */
  delivery?: DeliveryReport;
}

export interface HealthMonitorOptions {
  contentTypes: readonly ContentType[];
  pollIntervalInMs: number;
  slackInMs?: number;
  now?: () => number;
  /** The sinks records go to; with them, the report carries {@link DeliveryReport}. */
  sinks?: readonly string[];
}

interface Entry {
  lastSuccessMs?: number;
  failure?: { cause: string; misconfigured: boolean };
}

/**
 * Tracks the outcome of every poll. A content type is healthy when its last poll succeeded
 * within 2 × poll interval + slack. While a long poll is catching up, each committed batch
 * counts as progress, so a 7-day backfill does not read as "down".
 */
export class HealthMonitor {
  private readonly entries = new Map<ContentType, Entry>();
  private readonly freshnessInMs: number;
  private readonly now: () => number;
  private globalCause: string | undefined;
  private readonly sinceMs: number;
  private recordsDelivered = 0;
  private lastDeliveryMs: number | undefined;

  constructor(private readonly options: HealthMonitorOptions) {
    this.freshnessInMs = 2 * options.pollIntervalInMs + (options.slackInMs ?? HEALTH_SLACK_MS);
    this.now = options.now ?? Date.now;
    this.sinceMs = this.now();
    for (const contentType of options.contentTypes) this.entries.set(contentType, {});
  }

  /** A poll of `contentType` completed, or made progress; clears its failure. */
  recordSuccess(contentType: ContentType): void {
    this.entries.set(contentType, { lastSuccessMs: this.now() });
  }

  /**
   * A poll of `contentType` failed. `misconfigured` marks causes only a configuration change
   * fixes (audit log off, missing permission, unknown tenant); they are reported as such.
   */
  recordFailure(contentType: ContentType, cause: string, misconfigured = false): void {
    const entry = this.entries.get(contentType) ?? {};
    this.entries.set(contentType, { ...entry, failure: { cause, misconfigured } });
  }

  /** A commit of `records` records every sink acknowledged. */
  recordDelivered(records: number): void {
    if (records <= 0) return;
    this.recordsDelivered += records;
    this.lastDeliveryMs = this.now();
  }

  /** A cause that affects every content type (e.g. no token); `undefined` clears it. */
  setGlobalCause(cause: string | undefined): void {
    this.globalCause = cause;
  }

  report(): HealthReport {
    const now = this.now();
    const contentTypes: Partial<Record<ContentType, ContentTypeHealth>> = {};
    let healthy = this.globalCause === undefined;
    for (const contentType of this.options.contentTypes) {
      const entry = this.entries.get(contentType) ?? {};
      const fresh =
        entry.lastSuccessMs !== undefined && now - entry.lastSuccessMs <= this.freshnessInMs;
      const lastSuccess =
        entry.lastSuccessMs !== undefined ? new Date(entry.lastSuccessMs).toISOString() : undefined;
      let health: ContentTypeHealth;
      if (entry.failure) {
        health = {
          status: entry.failure.misconfigured ? "misconfigured" : "failing",
          cause: entry.failure.cause,
        };
      } else if (fresh) {
        health = { status: "ok" };
      } else if (entry.lastSuccessMs === undefined) {
        health = { status: "starting", cause: "first poll not finished yet" };
      } else {
        health = {
          status: "stale",
          cause: `no successful poll for ${Math.round((now - entry.lastSuccessMs) / 1000)}s`,
        };
      }
      if (lastSuccess) health.lastSuccess = lastSuccess;
      const ok = health.status === "ok";
      if (!ok) healthy = false;
      contentTypes[contentType] = health;
    }
    return {
      status: healthy ? "ok" : "unavailable",
      contentTypes,
      ...(this.globalCause !== undefined ? { cause: this.globalCause } : {}),
      ...(this.options.sinks
        ? {
            delivery: {
              sinks: [...this.options.sinks],
              recordsDelivered: this.recordsDelivered,
              since: new Date(this.sinceMs).toISOString(),
              ...(this.lastDeliveryMs !== undefined
                ? { lastDeliveryAt: new Date(this.lastDeliveryMs).toISOString() }
                : {}),
            },
          }
        : {}),
    };
  }
}

export interface OperationsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Registry;
  health: HealthMonitor;
  /** Called before each scrape, e.g. to bring time-based gauges (lag) up to date. */
  beforeMetrics?: () => void;
  logger?: Logger;
}

export interface OperationsServer {
  /** The port actually bound. */
  port: number;
  close(): Promise<void>;
}

/** Starts the `/healthz` + `/metrics` server; resolves once listening. */
export async function startOperationsServer(
  options: OperationsServerOptions,
): Promise<OperationsServer> {
  const server: Server = createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      options.logger?.warn({ err: error }, "operations endpoint failed");
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    });
  });
  // Probes and scrapes are short; do not let idle keep-alive sockets delay shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  options: OperationsServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  if (pathname === "/healthz") {
    const report = options.health.report();
    send(
      res,
      report.status === "ok" ? 200 : 503,
      "application/json; charset=utf-8",
      `${JSON.stringify(report)}\n`,
    );
    return;
  }
  if (pathname === "/livez") {
    // Liveness only: the process answers. Readiness and alerting use /healthz; a liveness
    // probe on /healthz would restart a collector that merely waits for an operator.
    send(res, 200, "text/plain; charset=utf-8", "ok\n");
    return;
  }
  if (pathname === "/metrics") {
    options.beforeMetrics?.();
    const body = await options.registry.metrics();
    send(res, 200, options.registry.contentType, body);
    return;
  }
  send(res, 404, "text/plain; charset=utf-8", "not found: try /healthz, /livez or /metrics\n");
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
