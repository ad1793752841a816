/**
 * Wires the collector from its configuration: credentials → source, sinks and state store →
 * pipeline, plus `/healthz`, `/metrics` and the terminal progress line; then runs it once
 * (`run --once`) or until the abort signal fires (`run`).
 *
 * Run loop contract:
 * - Each round polls every content type from its checkpoint up to now, then waits
 *   `AUDIT_POLL_INTERVAL`.
 * - A configuration error only an operator can fix (audit log off, AF10001, unknown tenant,
 *   wrong secret) is logged, shown in `/healthz`, and retried every
 *   {@link DEFAULT_CONFIG_ERROR_RETRY_MS}; the other content types keep going.
 * - On abort the pipeline finishes the batch in flight, commits, and everything is closed.
 */
import type { TokenCredential } from "@azure/identity";
import type { ContentType } from "../../domain/contentTypes";
import { formatDuration } from "../../domain/validators";
import { type CollectorConfig, describeConfig } from "./config";
import { countTokenRefreshes, createAppCredential, createAzureCredential } from "./credentials";
import { HealthMonitor, type OperationsServer, startOperationsServer } from "./http";
import type { Logger } from "./log";
import type { CollectorMetrics } from "./metrics";
import { isPipelineError, Pipeline, type PipelineProgressEvent } from "./pipeline/pipeline";
import type { ProgressDisplay } from "./progress";
import { createSink } from "./sinks";
import { ActivitySource } from "./source/activitySource";
import { isManagementApiError } from "./source/apiError";
import { ManagementApiClient } from "./source/client";
import { ParseWorkerPool } from "./source/parseWorkers";
import { isStartGuardError } from "./source/subscriptions";
import { BlobStateStore } from "./state/blobState";
import { isStateStoreError } from "./state/errors";
import { ThreadedSqliteStateStore } from "./state/threadedState";
import type { Checkpoint, OperationOptions, Sink, Source, SourceItem, StateStore } from "./types";

/** Retry period for configuration errors: slow, since an operator has to act first. */
export const DEFAULT_CONFIG_ERROR_RETRY_MS = 5 * 60_000;
/** Retry period while another collector holds the state (SQLite lock or blob lease). */
export const DEFAULT_STATE_LOCKED_RETRY_MS = 30_000;

export interface RunCollectorOptions {
  config: CollectorConfig;
  logger: Logger;
  metrics: CollectorMetrics;
  /** Catch up to now, deliver, checkpoint, return. */
  once: boolean;
  /** Fires on SIGTERM/SIGINT: stop polling, drain the in-flight batch, checkpoint, close. */
  abortSignal: AbortSignal;
  progress?: ProgressDisplay;
  /** Override of {@link DEFAULT_CONFIG_ERROR_RETRY_MS} (tests). */
  configErrorRetryInMs?: number;
  /** Override of {@link DEFAULT_STATE_LOCKED_RETRY_MS} (tests). */
  stateLockedRetryInMs?: number;
  /** Called once `/healthz` and `/metrics` listen, with the bound port. */
  onListening?: (port: number) => void;
  /** Clock, epoch ms. */
  nowMs?: () => number;
}

/** How a run ended: 0 done or drained after a signal, 1 could not complete, 2 bad setup. */
export interface CollectorRunResult {
  exitCode: 0 | 1 | 2;
  /** One line for the operator when `exitCode` is not 0. */
  reason?: string;
}

/** The parts built from the configuration, before anything connects. */
export interface CollectorParts {
  appCredential: TokenCredential;
  azureCredential: TokenCredential;
  client: ManagementApiClient;
  source: Source;
  sinks: Sink[];
  state: StateStore;
  /** Parse worker threads, when blobs are parsed off the main thread; closed by the caller. */
  parseWorkers: ParseWorkerPool | undefined;
}

/**
 * Builds the credentials, the Management API client, the source, the sinks and the state store
 * named by the configuration. Nothing connects yet.
 */
export function buildParts(
  config: CollectorConfig,
  metrics: CollectorMetrics,
  logger: Logger,
): CollectorParts {
  const appCredential = countTokenRefreshes(createAppCredential(config, metrics), metrics);
  const azureCredential =
    config.azureManagedIdentityClientId === undefined
      ? appCredential
      : countTokenRefreshes(createAzureCredential(config, appCredential), metrics);
  const client = new ManagementApiClient({
    baseUrl: config.cloud.managementEndpoint,
    tenantId: config.tenantId,
    publisherId: config.publisherId,
    credential: appCredential,
    audience: config.cloud.managementAudience,
    metrics,
    logger: logger.child({ component: "management-api" }),
  });
  const sinks = config.sinks.map((sink) =>
    createSink(sink.kind, {
      ...(sink.kind === "file" ? { file: { path: sink.path } } : {}),
      ...(sink.kind === "logs-ingestion"
        ? {
            "logs-ingestion": {
              endpoint: sink.endpoint,
              ruleId: sink.ruleId,
              streamName: sink.stream,
              credential: azureCredential,
              audience: config.cloud.monitorAudience,
            },
          }
        : {}),
      metrics,
      logger: logger.child({ component: `${sink.kind}-sink` }),
    }),
  );
  const keepParsedRecords = sinks.some((sink) => sink.usesParsedRecords === true);
  // Worker threads pay off only when records can stay bytes until a sink writes them.
  const parseWorkers =
    !keepParsedRecords && config.parseWorkers > 0
      ? new ParseWorkerPool(config.parseWorkers)
      : undefined;
  const source = new ActivitySource({
    contentTypes: config.contentTypes,
    client,
    initialLookbackInMs: config.initialLookbackMs,
    overlapInMs: config.relistOverlapMs,
    quarantineDir: config.quarantineDir,
    keepParsedRecords,
    parseWorkers,
    metrics,
    logger: logger.child({ component: "source" }),
  });
  const state =
    config.state.kind === "sqlite"
      ? new ThreadedSqliteStateStore({ path: config.state.path })
      : new BlobStateStore({
          container: config.state.containerUrl,
          ...(config.state.connectionString
            ? { connectionString: config.state.connectionString }
            : { credential: azureCredential }),
          // One folder per tenant, so several tenants' collectors can share a container.
          prefix: `auditbridge/${config.tenantId}`,
          logger: logger.child({ component: "blob-state" }),
        });
  return { appCredential, azureCredential, client, source, sinks, state, parseWorkers };
}

/** The signal of a state store that can be lost while running, and why it was. */
function stateLossOf(state: StateStore): { signal: AbortSignal; cause: () => string } | undefined {
  if (state instanceof BlobStateStore) {
    return {
      signal: state.leaseLostSignal,
      cause: () => "lost the blob state lease (another collector may own this tenant now)",
    };
  }
  if (state instanceof ThreadedSqliteStateStore) {
    const signal = state.threadStoppedSignal;
    return {
      signal,
      cause: () => (signal.reason instanceof Error ? signal.reason.message : "state lost"),
    };
  }
  return undefined;
}

/** What a failure means for the run loop. */
interface FailureVerdict {
  /** One line, safe for logs and `/healthz`. */
  cause: string;
  /** Only an operator can fix it: retry slowly. */
  misconfigured: boolean;
}

/** Reads the cause out of an error from the source, the pipeline or the state store. */
export function judgeFailure(error: unknown): FailureVerdict {
  const root = isPipelineError(error) && error.cause !== undefined ? error.cause : error;
  if (isManagementApiError(root)) {
    return {
      cause: root.classification.reason,
      misconfigured: root.classification.action === "fatal-config",
    };
  }
  if (isStartGuardError(root)) return { cause: root.message, misconfigured: false };
  const message = error instanceof Error ? error.message : String(error);
  return { cause: message.split("\n")[0]!, misconfigured: false };
}

/**
 * Wraps the source so a content type whose last poll failed with a configuration error is
 * polled again only after the slow retry period; the others keep their normal cadence.
 */
class ConfigErrorGate implements Source {
  private readonly retryAt = new Map<ContentType, number>();
  private readonly deferred = new Set<ContentType>();

  constructor(
    private readonly inner: Source,
    private readonly retryInMs: number,
    private readonly now: () => number,
  ) {}

  start(options?: OperationOptions): Promise<void> {
    return this.inner.start(options);
  }

  async *poll(
    contentType: ContentType,
    checkpoint: Checkpoint | undefined,
    options?: OperationOptions,
  ): AsyncIterable<SourceItem> {
    const at = this.retryAt.get(contentType);
    if (at !== undefined && this.now() < at) {
      this.deferred.add(contentType);
      return;
    }
    this.deferred.delete(contentType);
    try {
      yield* this.inner.poll(contentType, checkpoint, options);
      this.retryAt.delete(contentType);
    } catch (error) {
      if (judgeFailure(error).misconfigured)
        this.retryAt.set(contentType, this.now() + this.retryInMs);
      throw error;
    }
  }

  /** True when the last round skipped `contentType` because of a configuration error. */
  wasDeferred(contentType: ContentType): boolean {
    return this.deferred.has(contentType);
  }
}

/** Resolves after `ms` or as soon as `signal` aborts (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs the collector. Resolves with the exit code; never calls `process.exit` (main.ts does).
 */
export async function runCollector(options: RunCollectorOptions): Promise<CollectorRunResult> {
  const { config, logger, metrics, once } = options;
  const now = options.nowMs ?? Date.now;
  const configRetryMs = options.configErrorRetryInMs ?? DEFAULT_CONFIG_ERROR_RETRY_MS;
  const lockedRetryMs = options.stateLockedRetryInMs ?? DEFAULT_STATE_LOCKED_RETRY_MS;
  logger.info({ config: describeConfig(config), once }, "collector starting");

  const health = new HealthMonitor({
    contentTypes: config.contentTypes,
    pollIntervalMs: config.pollIntervalMs,
    now,
  });
  const parts = buildParts(config, metrics, logger);
  // Losing the state (the blob lease, which another replica may own now, or the SQLite state
  // thread) means stopping like on SIGTERM, but with exit 1 so the orchestrator notices.
  const stateLoss = stateLossOf(parts.state);
  const abortSignal = stateLoss
    ? AbortSignal.any([options.abortSignal, stateLoss.signal])
    : options.abortSignal;
  stateLoss?.signal.addEventListener(
    "abort",
    () => {
      health.setGlobalCause(`${stateLoss.cause()}; stopping`);
      logger.error(`${stateLoss.cause()}; stopping`);
    },
    { once: true },
  );
  const source = new ConfigErrorGate(parts.source, configRetryMs, now);
  const lastProgress = new Map<string, string>();
  const onProgress = (event: PipelineProgressEvent) => {
    if (event.type !== "commit") return;
    // A long catch-up poll is healthy as long as it keeps committing.
    for (const [contentType, progress] of Object.entries(event.byContentType)) {
      const mark = `${progress.delivered}/${progress.blobsDone}/${progress.blobsSkipped}/${progress.windowStart ?? ""}`;
      if (lastProgress.get(contentType) !== mark) {
        lastProgress.set(contentType, mark);
        health.recordSuccess(contentType as ContentType);
      }
    }
  };
  const pipeline = new Pipeline({
    source,
    sinks: parts.sinks,
    state: parts.state,
    contentTypes: config.contentTypes,
    metrics,
    logger: logger.child({ component: "pipeline" }),
    onProgress,
    ...(options.nowMs ? { nowMs: options.nowMs } : {}),
  });

  let server: OperationsServer;
  try {
    server = await startOperationsServer({
      host: config.httpHost,
      port: config.httpPort,
      registry: metrics.registry,
      health,
      beforeMetrics: () => pipeline.refreshGauges(),
      logger,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "EADDRINUSE"
        ? `AUDIT_HTTP_PORT ${config.httpPort} is already in use on ${config.httpHost}: choose another port (0 picks a free one)`
        : `cannot listen on ${config.httpHost}:${config.httpPort} for /healthz and /metrics: ${(error as Error).message}`;
    logger.error({ err: reason }, "startup failed");
    return { exitCode: 2, reason };
  }
  logger.info(
    { port: server.port, host: config.httpHost },
    `serving /healthz and /metrics on http://${config.httpHost}:${server.port}`,
  );
  options.onListening?.(server.port);

  let opened = false;
  const loop = async (): Promise<CollectorRunResult> => {
    let result: CollectorRunResult = { exitCode: 0 };
    // 1. Open the state (exclusive) and start the sinks at their committed positions.
    while (!opened && !abortSignal.aborted) {
      try {
        await pipeline.open({ abortSignal });
        opened = true;
      } catch (error) {
        if (abortSignal.aborted) break;
        const message = error instanceof Error ? error.message : String(error);
        const locked = isStateStoreError(error) && error.code === "locked";
        if (once || !locked) {
          logger.error({ err: message }, "cannot open the state store or the sinks");
          return { exitCode: 1, reason: `cannot start: ${message.split("\n")[0]}` };
        }
        health.setGlobalCause(`standby: ${message}`);
        logger.warn(
          { err: message, retryInMs: lockedRetryMs },
          "another collector holds the state; waiting to take over",
        );
        await pause(lockedRetryMs, abortSignal);
      }
    }
    health.setGlobalCause(undefined);
    options.progress?.start();

    // 2. Poll rounds.
    // Subscriptions are ensured before the first round; a failure (say, AF10001 for DLP.All
    // only) does not hold back the other content types: every poll then reports its own cause.
    let subscribed = false;
    let startRetryAtMs = 0;
    while (!abortSignal.aborted) {
      if (!subscribed && now() >= startRetryAtMs) {
        try {
          await source.start({ abortSignal });
          subscribed = true;
        } catch (error) {
          if (abortSignal.aborted) break;
          const verdict = judgeFailure(error);
          if (verdict.misconfigured) {
            startRetryAtMs = now() + configRetryMs;
            // Visible at once; each content type's poll below replaces it with its own outcome.
            for (const contentType of config.contentTypes) {
              health.recordFailure(contentType, verdict.cause, true);
            }
          }
          logger.warn(
            { err: verdict.cause, misconfigured: verdict.misconfigured },
            "could not ensure every subscription; polling anyway, each content type reports its own cause",
          );
        }
      }

      const roundStartedMs = now();
      let failedRound: string | undefined;
      try {
        const summary = await pipeline.runOnce({ abortSignal });
        health.setGlobalCause(undefined);
        const failures: string[] = [];
        for (const contentType of config.contentTypes) {
          const outcome = summary.contentTypes[contentType];
          if (!outcome) continue;
          if (outcome.ok && source.wasDeferred(contentType)) continue; // keeps its cause
          if (outcome.ok) {
            if (!summary.aborted) health.recordSuccess(contentType);
            if (outcome.received > 0 || outcome.delivered > 0) {
              logger.info(
                {
                  contentType,
                  received: outcome.received,
                  delivered: outcome.delivered,
                  duplicate: outcome.duplicate,
                  skipped: outcome.skipped,
                },
                "poll done",
              );
            }
            continue;
          }
          const verdict = judgeFailure(outcome.error);
          health.recordFailure(contentType, verdict.cause, verdict.misconfigured);
          failures.push(`${contentType}: ${verdict.cause}`);
          logger.error(
            { contentType, err: verdict.cause, misconfigured: verdict.misconfigured },
            once
              ? "poll failed; the checkpoint stays before the failed item"
              : verdict.misconfigured
                ? `configuration error; this content type is retried in ${formatDuration(configRetryMs)}`
                : "poll failed; retrying next round from the checkpoint",
          );
        }
        if (summary.aborted) break;
        if (failures.length > 0) failedRound = failures.join("; ");
      } catch (error) {
        if (abortSignal.aborted) break;
        // A sink refused for good, or the state store failed: nothing moved past the last commit.
        const root = isPipelineError(error) && error.cause !== undefined ? error.cause : error;
        const message = error instanceof Error ? error.message : String(error);
        if (isStateStoreError(root) && (root.code === "lease-lost" || root.code === "locked")) {
          logger.error({ err: message }, "lost ownership of the state; stopping");
          result = { exitCode: 1, reason: `stopped: ${message}` };
          break;
        }
        health.setGlobalCause(message);
        logger.error({ err: message, retryInMs: configRetryMs }, "round failed; nothing was lost");
        if (once) {
          result = { exitCode: 1, reason: `could not complete: ${message}` };
          break;
        }
        await pause(configRetryMs, abortSignal);
        continue;
      }

      if (once) {
        result = failedRound
          ? { exitCode: 1, reason: `could not complete: ${failedRound}` }
          : { exitCode: 0 };
        if (!failedRound) logger.info("caught up; every content type checkpointed");
        break;
      }
      const elapsed = now() - roundStartedMs;
      logger.debug({ elapsedInMs: elapsed }, "round done");
      await pause(config.pollIntervalMs, abortSignal);
    }
    if (stateLoss?.signal.aborted) return { exitCode: 1, reason: `stopped: ${stateLoss.cause()}` };
    if (abortSignal.aborted) logger.info("stopped: in-flight batch delivered and checkpointed");
    return result;
  };

  let result: CollectorRunResult = { exitCode: 1, reason: "stopped unexpectedly" };
  try {
    result = await loop();
  } finally {
    options.progress?.stop();
    // Closed even when open failed half-way, so a lock or file handle is never left behind.
    await pipeline.close().catch((error: unknown) => {
      if (!opened) return;
      logger.error({ err: (error as Error).message }, "closing the sinks or the state failed");
      if (result.exitCode === 0) {
        result = { exitCode: 1, reason: `closing failed: ${(error as Error).message}` };
      }
    });
    await parts.parseWorkers?.close();
    await server.close();
  }
  return result;
}
