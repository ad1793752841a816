/**
 * Paces Management Activity API requests instead of bouncing off the limit. The API allows a
 * tenant about 2,000 requests a minute (more for large tenants) and answers `403 AF429` past
 * it, without a Retry-After; how it counts (per calendar minute, sliding window, token bucket)
 * is not documented. A client that sends as fast as it can and sleeps seconds on each AF429 drains a
 * backlog well below the limit; one that spends an even budget just under it does not.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#api-throttling
 *
 * A token bucket: the configured budget refills evenly (budget / 60 per second) up to a small
 * burst. Adaptive: an AF429 cuts the rate at once (and empties the bucket), then the rate probes
 * back up in small steps while no AF429 comes, never above the budget. Written by hand: the
 * rate limiters on npm do not adapt to a server's refusals.
 */
import { API_REQUESTS_PER_MINUTE_LIMIT } from "../../../domain/apiLimits";
import { abortError, sleep } from "../backoff";

export { API_REQUESTS_PER_MINUTE_LIMIT };
/** Default budget: a margin under the limit for clock drift and the server's own counting. */
export const DEFAULT_API_REQUESTS_PER_MINUTE = 1_800;
/**
 * Requests that may go at once after a quiet spell. Small: the server may count in a bucket
 * of a few dozen requests, and a larger burst buys nothing while a backlog drains.
 */
export const DEFAULT_BURST = 10;
/** An AF429 multiplies the rate by this. */
export const DEFAULT_DECREASE_FACTOR = 0.7;
/** The rate never drops below this share of the budget. */
export const MIN_RATE_SHARE = 0.05;
/** Without an AF429 for this long, the rate grows by one step. */
export const DEFAULT_PROBE_INTERVAL_IN_MS = 5_000;
/** One step up, as a share of the budget. */
export const DEFAULT_PROBE_STEP_SHARE = 0.05;

export interface RequestPacerOptions {
  /** The budget (AUDIT_API_REQUESTS_PER_MINUTE). */
  requestsPerMinute?: number;
  burst?: number;
  decreaseFactor?: number;
  probeIntervalInMs?: number;
  probeStepShare?: number;
  /** Called with the new rate (requests a minute) whenever it changes; for a gauge. */
  onRateChange?: (requestsPerMinute: number) => void;
  /** Clock, epoch ms; injectable for tests. */
  nowMs?: () => number;
  /** Abortable wait; injectable for tests. */
  sleep?: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
}

/** What the pacer has done so far, for metrics and tests. */
export interface PacerStats {
  /** Requests let through. */
  granted: number;
  /** Total time requests waited for a token, in ms. */
  waitedInMs: number;
  /** AF429 answers reported. */
  throttled: number;
  /** Times an AF429 cut the rate (several answers to requests sent at one rate cut it once). */
  cuts: number;
}

/**
 * A grant from {@link RequestPacer.acquire}: hand it back with {@link RequestPacer.onThrottled}
 * so that answers to requests sent before the last cut do not cut the rate again.
 */
export interface PacerPermit {
  /** How many cuts had happened when the request was let through. */
  readonly generation: number;
}

/** One pacer per tenant × PublisherIdentifier: every Management API call takes a token first. */
export class RequestPacer {
  readonly budgetPerMinute: number;
  private readonly burst: number;
  private readonly decreaseFactor: number;
  private readonly probeIntervalInMs: number;
  private readonly probeStepPerMinute: number;
  private readonly floorPerMinute: number;
  private readonly onRateChange: ((requestsPerMinute: number) => void) | undefined;
  private readonly now: () => number;
  private readonly wait: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  private ratePerMinute: number;
  private tokens: number;
  private refilledAtMs: number;
  private calmSinceMs: number;
  private generation = 0;
  /** Callers waiting for a token, served in order. */
  private queue: Promise<void> = Promise.resolve();
  readonly stats: PacerStats = { granted: 0, waitedInMs: 0, throttled: 0, cuts: 0 };

  constructor(options: RequestPacerOptions = {}) {
    const budget = options.requestsPerMinute ?? DEFAULT_API_REQUESTS_PER_MINUTE;
    if (!(Number.isFinite(budget) && budget > 0)) {
      throw new RangeError(`requestsPerMinute must be a positive number (got ${budget})`);
    }
    this.budgetPerMinute = budget;
    this.burst = Math.max(1, options.burst ?? DEFAULT_BURST);
    this.decreaseFactor = options.decreaseFactor ?? DEFAULT_DECREASE_FACTOR;
    this.probeIntervalInMs = options.probeIntervalInMs ?? DEFAULT_PROBE_INTERVAL_IN_MS;
    this.probeStepPerMinute = budget * (options.probeStepShare ?? DEFAULT_PROBE_STEP_SHARE);
    this.floorPerMinute = budget * MIN_RATE_SHARE;
    this.onRateChange = options.onRateChange;
    this.now = options.nowMs ?? Date.now;
    this.wait = options.sleep ?? sleep;
    this.ratePerMinute = budget;
    this.tokens = this.burst;
    this.refilledAtMs = this.now();
    this.calmSinceMs = this.refilledAtMs;
    this.onRateChange?.(budget);
  }

  /** The rate the pacer spends now, requests per minute. */
  get currentRequestsPerMinute(): number {
    return this.ratePerMinute;
  }

  /**
   * True when AF429 answers have pushed the rate down to its floor: pacing alone no longer
   * helps, and a caller backs off before it retries.
   */
  get atFloor(): boolean {
    return this.ratePerMinute <= this.floorPerMinute;
  }

  /**
   * Resolves when a request may go. Callers are served in arrival order; an aborted wait gives
   * its place up at once and rejects with the signal's reason.
   */
  acquire(abortSignal?: AbortSignal): Promise<PacerPermit> {
    const turn = this.queue.then(() => this.take(abortSignal));
    // The next caller waits for this one's turn, not for its outcome.
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return abortSignal === undefined ? turn : untilAborted(turn, abortSignal);
  }

  /**
   * An AF429 came back: spend less, at once. Answers to requests let through before the last
   * cut are counted but cut nothing more: they were sent at the old rate, and cutting once per
   * answer would collapse the rate when several requests were in flight together.
   */
  onThrottled(permit?: PacerPermit): void {
    this.refill();
    this.stats.throttled++;
    if (permit !== undefined && permit.generation < this.generation) return;
    this.generation++;
    this.stats.cuts++;
    this.setRate(Math.max(this.floorPerMinute, this.ratePerMinute * this.decreaseFactor));
    // The server has just said no: nothing saved up may go in a burst.
    this.tokens = Math.min(this.tokens, 0);
    this.calmSinceMs = this.now();
  }

  private async take(abortSignal?: AbortSignal): Promise<PacerPermit> {
    for (;;) {
      abortSignal?.throwIfAborted();
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.stats.granted++;
        return { generation: this.generation };
      }
      const waitInMs = Math.ceil(((1 - this.tokens) * 60_000) / this.ratePerMinute);
      this.stats.waitedInMs += waitInMs;
      await this.wait(waitInMs, abortSignal);
    }
  }

  private refill(): void {
    const now = this.now();
    // Probe back up, one step per calm interval, never past the budget.
    let rate = this.ratePerMinute;
    while (rate < this.budgetPerMinute && now - this.calmSinceMs >= this.probeIntervalInMs) {
      this.calmSinceMs += this.probeIntervalInMs;
      rate = Math.min(this.budgetPerMinute, rate + this.probeStepPerMinute);
    }
    const elapsed = Math.max(0, now - this.refilledAtMs);
    // Tokens accrue at the rate in force before this refill; the step up applies from now.
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerMinute) / 60_000);
    this.refilledAtMs = now;
    if (rate !== this.ratePerMinute) this.setRate(rate);
  }

  private setRate(ratePerMinute: number): void {
    this.ratePerMinute = ratePerMinute;
    this.onRateChange?.(ratePerMinute);
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason ?? abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
