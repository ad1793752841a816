import type { HealthMonitor } from "../http";
import type { Logger } from "../log";
import type { Pipeline } from "../pipeline/pipeline";
import { BlobStateStore } from "../state/blobState";
import { isStateStoreError } from "../state/errors";
import { ThreadedSqliteStateStore } from "../state/threadedState";
import type { StateStore } from "../types";
import type { CollectorRunResult } from "./failure";
import { pause } from "./pause";

/** Retry period while another collector holds the state (SQLite lock or blob lease). */
export const DEFAULT_STATE_LOCKED_RETRY_MS = 30_000;

/** A state store that can be lost while running: the signal that fires then, and why it did. */
export interface StateLoss {
  signal: AbortSignal;
  cause: () => string;
}

/**
 * The loss signal of a state store that can be lost while running (the blob lease, which
 * another replica may own now, or the SQLite state thread), undefined for one that cannot.
 */
export function stateLossOf(state: StateStore): StateLoss | undefined {
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

/** Options of {@link watchStateLoss}. */
export interface WatchStateLossOptions {
  /** The caller's stop (SIGTERM/SIGINT). */
  abortSignal: AbortSignal;
  health: HealthMonitor;
  logger: Logger;
}

/**
 * Losing the state means stopping like on SIGTERM, but with exit 1 so the orchestrator
 * notices. Returns the signal the run obeys (the caller's stop or the loss) and the loss, if
 * the store can be lost; the loss is logged and shown in `/healthz` when it happens.
 */
export function watchStateLoss(
  state: StateStore,
  options: WatchStateLossOptions,
): { abortSignal: AbortSignal; stateLoss: StateLoss | undefined } {
  const stateLoss = stateLossOf(state);
  if (!stateLoss) return { abortSignal: options.abortSignal, stateLoss };
  stateLoss.signal.addEventListener(
    "abort",
    () => {
      options.health.setGlobalCause(`${stateLoss.cause()}; stopping`);
      options.logger.error(`${stateLoss.cause()}; stopping`);
    },
    { once: true },
  );
  return { abortSignal: AbortSignal.any([options.abortSignal, stateLoss.signal]), stateLoss };
}

/**
 * The log line of a `run --once` that finds the state held by another run. It names the lease
 * (blob state) or the lock (SQLite) so an operator reading the job's console logs knows why an
 * execution delivered nothing.
 */
export function stateHeldMessage(state: StateStore): string {
  const what = state instanceof BlobStateStore ? "lease" : "lock";
  return `another run holds the checkpoint ${what}; this run exits without collecting`;
}

/** Options of {@link openState}. */
export interface OpenStateOptions {
  abortSignal: AbortSignal;
  /**
   * `run --once`: a held state is not a reason to wait; the run ends at once as `held`. A
   * scheduled job's next execution starts while a long previous one (a catch-up after an outage)
   * still holds the lease; waiting would pile executions up, and the holder is already doing the
   * work.
   */
  once: boolean;
  health: HealthMonitor;
  logger: Logger;
  /** Pause between attempts while another collector holds the state (default {@link DEFAULT_STATE_LOCKED_RETRY_MS}). */
  stateLockedRetryInMs?: number;
}

/** How {@link openState} ended. */
export type OpenStateOutcome =
  | { kind: "opened" }
  /** Stopped before the state could be opened. */
  | { kind: "aborted" }
  /** `once` only: another run holds the state; `message` is the store's one-line reason. */
  | { kind: "held"; message: string }
  | { kind: "failed"; result: CollectorRunResult };

/**
 * Opens the state (exclusively) and starts the sinks at their committed positions. While
 * another collector holds the state, waits as a standby (shown in `/healthz`) and tries again,
 * or with `once` ends as `held`; any other failure fails the run.
 */
export async function openState(
  pipeline: Pipeline,
  options: OpenStateOptions,
): Promise<OpenStateOutcome> {
  const { abortSignal, health, logger } = options;
  const retryInMs = options.stateLockedRetryInMs ?? DEFAULT_STATE_LOCKED_RETRY_MS;
  while (!abortSignal.aborted) {
    try {
      await pipeline.open({ abortSignal });
      return { kind: "opened" };
    } catch (error) {
      if (abortSignal.aborted) break;
      const message = error instanceof Error ? error.message : String(error);
      const locked = isStateStoreError(error) && error.code === "locked";
      if (locked && options.once) return { kind: "held", message: message.split("\n")[0]! };
      if (!locked) {
        logger.error({ err: message }, "cannot open the state store or the sinks");
        return {
          kind: "failed",
          result: { exitCode: 1, reason: `cannot start: ${message.split("\n")[0]}` },
        };
      }
      health.setGlobalCause(`standby: ${message}`);
      logger.warn(
        { err: message, retryInMs },
        "another collector holds the state; waiting to take over",
      );
      await pause(retryInMs, { abortSignal });
    }
  }
  return { kind: "aborted" };
}
