import { setMaxListeners } from "node:events";
import { abortError } from "../backoff";
import type { Logger } from "../log";
import { errorText, PipelineError } from "./errors";
import { DEFAULT_SHUTDOWN_GRACE_MS } from "./options";

/** Options of a {@link RunControl}. */
export interface RunControlOptions {
  /** The caller's graceful stop. */
  abortSignal?: AbortSignal;
  /** Grace for the in-flight delivery after a graceful stop (default {@link DEFAULT_SHUTDOWN_GRACE_MS}). */
  shutdownGraceInMs?: number;
  logger?: Logger;
}

/**
 * How one `runOnce` stops: gracefully when the caller's signal fires (fetching stops at once,
 * the in-flight delivery gets `shutdownGraceInMs`), or on the first fatal error (fetching
 * stops, acknowledged batches are still committed).
 */
export class RunControl {
  /** The first fatal error; the run rejects with it. */
  fatal: PipelineError | undefined;
  /** The caller asked to stop. */
  stopping = false;

  /** Aborts fetching: the caller's graceful stop, or a fatal lane error. */
  private readonly fetchController = new AbortController();
  /** Aborts the in-flight delivery: fired `shutdownGraceInMs` after a graceful stop. */
  private readonly deliveryController = new AbortController();
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly stopListeners: Array<() => void> = [];
  private readonly failListeners: Array<() => void> = [];

  constructor(private readonly options: RunControlOptions) {
    // Every blob fetch, sink upload (the Azure SDK adds one per request) and sleep listens on
    // these signals at once; more than Node's default of 10 listeners is expected, not a leak.
    setMaxListeners(0, this.fetchController.signal, this.deliveryController.signal);
    if (options.abortSignal?.aborted) this.beginStop();
    else options.abortSignal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Fires when fetching must stop (graceful stop or fatal error). */
  get fetchSignal(): AbortSignal {
    return this.fetchController.signal;
  }

  /** Fires when the in-flight delivery must be abandoned (the grace after a stop ran out). */
  get deliverySignal(): AbortSignal {
    return this.deliveryController.signal;
  }

  /** The error work refused after a graceful stop ends with. */
  stopError(): Error {
    return abortError(this.options.abortSignal);
  }

  /** Calls `listener` when a graceful stop begins. */
  onStop(listener: () => void): void {
    this.stopListeners.push(listener);
  }

  /** Calls `listener` when the run fails. */
  onFail(listener: () => void): void {
    this.failListeners.push(listener);
  }

  /** Stops the run with `error` (the first one wins): fetching ends, the lane drains. */
  fail(error: unknown): void {
    if (this.fatal) return;
    this.fatal =
      error instanceof PipelineError
        ? error
        : new PipelineError(`pipeline stopped: ${errorText(error)}`, { cause: error });
    this.options.logger?.error(
      { err: this.fatal.message },
      "pipeline stopped; acknowledged batches are committed",
    );
    this.fetchController.abort(this.fatal);
    for (const listener of this.failListeners) listener();
  }

  /** Releases the timer and the listener on the caller's signal. */
  dispose(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.options.abortSignal?.removeEventListener("abort", this.onAbort);
  }

  private readonly onAbort = () => this.beginStop();

  private beginStop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.fetchController.abort(this.options.abortSignal?.reason);
    const graceInMs = this.options.shutdownGraceInMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.graceTimer = setTimeout(() => this.deliveryController.abort(), graceInMs);
    this.graceTimer.unref?.();
    for (const listener of this.stopListeners) listener();
  }
}
