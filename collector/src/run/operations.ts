import type { CollectorConfig } from "../config";
import { type HealthMonitor, type OperationsServer, startOperationsServer } from "../http";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { Pipeline } from "../pipeline/pipeline";
import type { CollectorRunResult } from "./failure";

/** Options of {@link listenForOperations}. */
export interface ListenForOperationsOptions {
  config: Pick<CollectorConfig, "httpHost" | "httpPort">;
  metrics: CollectorMetrics;
  health: HealthMonitor;
  /** Its gauges are refreshed before each `/metrics` answer. */
  pipeline: Pipeline;
  logger: Logger;
  /** Called once the server listens, with the bound port. */
  onListening?: (port: number) => void;
}

/**
 * Starts `/healthz` and `/metrics`. A port that cannot be bound is bad setup (exit 2) with a
 * one-line reason naming the setting to change.
 */
export async function listenForOperations(
  options: ListenForOperationsOptions,
): Promise<{ server: OperationsServer } | { failure: CollectorRunResult }> {
  const { config, logger } = options;
  let server: OperationsServer;
  try {
    server = await startOperationsServer({
      host: config.httpHost,
      port: config.httpPort,
      registry: options.metrics.registry,
      health: options.health,
      beforeMetrics: () => options.pipeline.refreshGauges(),
      logger,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "EADDRINUSE"
        ? `AUDIT_HTTP_PORT ${config.httpPort} is already in use on ${config.httpHost}: choose another port (0 picks a free one)`
        : `cannot listen on ${config.httpHost}:${config.httpPort} for /healthz and /metrics: ${(error as Error).message}`;
    logger.error({ err: reason }, "startup failed");
    return { failure: { exitCode: 2, reason } };
  }
  logger.info(
    { port: server.port, host: config.httpHost },
    `serving /healthz and /metrics on http://${config.httpHost}:${server.port}`,
  );
  options.onListening?.(server.port);
  return { server };
}
