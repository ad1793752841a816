/**
 * Wires the collector from its configuration and runs it once (`run --once`) or until the
 * abort signal fires (`run`). Each step lives in collector/src/run/: building the parts
 * (parts.ts), `/healthz` and `/metrics` (operations.ts), owning the state (stateOwnership.ts),
 * the run loop (rounds.ts), what a failure means (failure.ts) and closing (shutdown.ts).
 */
import { type CollectorConfig, describeConfig } from "./config";
import { HealthMonitor } from "./http";
import type { Logger } from "./log";
import type { CollectorMetrics } from "./metrics";
import { Pipeline } from "./pipeline/pipeline";
import type { ProgressDisplay } from "./progress";
import { ConfigErrorGate, DEFAULT_CONFIG_ERROR_RETRY_MS } from "./run/configErrorGate";
import type { CollectorRunResult } from "./run/failure";
import { listenForOperations } from "./run/operations";
import { buildParts } from "./run/parts";
import { healthOnCommit, runRounds } from "./run/rounds";
import { shutDown } from "./run/shutdown";
import {
  DEFAULT_STATE_LOCKED_RETRY_MS,
  openState,
  stateHeldMessage,
  watchStateLoss,
} from "./run/stateOwnership";

export { DEFAULT_CONFIG_ERROR_RETRY_MS } from "./run/configErrorGate";
export { type CollectorRunResult, type FailureVerdict, judgeFailure } from "./run/failure";
export { buildParts, type CollectorParts } from "./run/parts";
export { DEFAULT_STATE_LOCKED_RETRY_MS } from "./run/stateOwnership";

/** Options of {@link runCollector}. */
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

/**
 * Runs the collector: build the parts, listen for `/healthz` and `/metrics`, open the state
 * (waiting as a standby while another collector holds it), poll round after round, then close
 * everything. Resolves with the exit code; never calls `process.exit` (main.ts does).
 */
export async function runCollector(options: RunCollectorOptions): Promise<CollectorRunResult> {
  const { config, logger, metrics, once } = options;
  const nowMs = options.nowMs ?? Date.now;
  logger.info({ config: describeConfig(config), once }, "collector starting");

  const health = new HealthMonitor({
    contentTypes: config.contentTypes,
    pollIntervalInMs: config.pollIntervalInMs,
    now: nowMs,
    sinks: config.sinks.map((sink) => sink.kind),
  });
  const parts = buildParts(config, metrics, logger);
  const { abortSignal, stateLoss } = watchStateLoss(parts.state, {
    abortSignal: options.abortSignal,
    health,
    logger,
  });
  const source = new ConfigErrorGate(parts.source, {
    retryInMs: options.configErrorRetryInMs ?? DEFAULT_CONFIG_ERROR_RETRY_MS,
    nowMs,
  });
  const pipeline = new Pipeline({
    source,
    sinks: parts.sinks,
    state: parts.state,
    contentTypes: config.contentTypes,
    metrics,
    logger: logger.child({ component: "pipeline" }),
    onProgress: healthOnCommit(health),
    ...(options.nowMs ? { nowMs: options.nowMs } : {}),
  });

  const listening = await listenForOperations({
    config,
    metrics,
    health,
    pipeline,
    logger,
    ...(options.onListening ? { onListening: options.onListening } : {}),
  });
  if ("failure" in listening) return listening.failure;

  let opened = false;
  const run = async (): Promise<CollectorRunResult> => {
    const open = await openState(pipeline, {
      abortSignal,
      once,
      health,
      logger,
      stateLockedRetryInMs: options.stateLockedRetryInMs ?? DEFAULT_STATE_LOCKED_RETRY_MS,
    });
    if (open.kind === "failed") return open.result;
    if (open.kind === "held") {
      // Exit 0, on purpose: in a scheduled Container Apps Job the holder is the previous
      // execution still catching up (or an always-on collector), which is already doing this
      // run's work. A non-zero exit would make Container Apps retry the replica
      // (replicaRetryLimit) and mark the execution Failed, so every long catch-up would read as
      // an outage and page someone. The warning is the visible trace in the job's console logs.
      logger.warn({ state: open.message }, stateHeldMessage(parts.state));
      return { exitCode: 0 };
    }
    opened = open.kind === "opened";
    health.setGlobalCause(undefined);
    options.progress?.start();
    const result = await runRounds({
      pipeline,
      source,
      contentTypes: config.contentTypes,
      once,
      pollIntervalInMs: config.pollIntervalInMs,
      configErrorRetryInMs: options.configErrorRetryInMs ?? DEFAULT_CONFIG_ERROR_RETRY_MS,
      health,
      logger,
      abortSignal,
      nowMs,
    });
    if (stateLoss?.signal.aborted) return { exitCode: 1, reason: `stopped: ${stateLoss.cause()}` };
    if (abortSignal.aborted) logger.info("stopped: in-flight batch delivered and checkpointed");
    return result;
  };

  let result: CollectorRunResult = { exitCode: 1, reason: "stopped unexpectedly" };
  try {
    result = await run();
  } finally {
    result = await shutDown(result, {
      pipeline,
      opened,
      parseWorkers: parts.parseWorkers,
      server: listening.server,
      progress: options.progress,
      logger,
    });
  }
  return result;
}
