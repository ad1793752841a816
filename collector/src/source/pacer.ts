/**
 * Paces Management Activity API requests instead of bouncing off the limit. The API allows a
 * publisher about 2,000 requests a minute and answers `403 AF429` past it, without a
 * Retry-After; how it counts (per calendar minute, sliding window, token bucket) is not
 * documented. A client that sends as fast as it can and sleeps seconds on each AF429 drains a
 * backlog well below the limit; one that spends an even budget just under it does not.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#api-throttling
 *
 * A token bucket: the configured budget refills evenly (budget / 60 per second) up to a small
 * burst. Adaptive: an AF429 cuts the rate at once (and empties the bucket), then the rate probes
 * back up in small steps while no AF429 comes, never above the budget. Written by hand: the
 * rate limiters on npm do not adapt to a server's refusals.
 */
import { sleep } from "../backoff";

/** Requests per minute the API allows a publisher (Management Activity API reference). */
export const API_REQUESTS_PER_MINUTE_LIMIT = 2_000;
/** Default budget: a margin under the limit for clock drift and the server's own counting. */
export const DEFAULT_API_REQUESTS_PER_MINUTE = 1_800;
/** Requests that may go at once after a quiet spell. */
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
}

/** One pacer per tenant × PublisherIdentifier: every Management API call takes a token first. */
export class RequestPacer {
  readonly budgetPerMinute: number;
  private readonly burst: number;
  private readonly decreaseFactor: number;
  private readonly probeIntervalInMs: number;
  private readonly probeStepPerMinute: number;
  private readonly now: () => number;
  private readonly wait: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  private ratePerMinute: number;
  private tokens: number;
  private refilledAtMs: number;
  private calmSinceMs: number;
  /** Callers waiting for a token, served in order. */
  private queue: Promise<void> = Promise.resolve();
  readonly stats: PacerStats = { granted: 0, waitedInMs: 0, throttled: 0 };

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
    this.now = options.nowMs ?? Date.now;
    this.wait = options.sleep ?? sleep;
    this.ratePerMinute = budget;
    this.tokens = this.burst;
    this.refilledAtMs = this.now();
    this.calmSinceMs = this.refilledAtMs;
  }

  /** The rate the pacer spends now, requests per minute. */
  get currentRequestsPerMinute(): number {
    return this.ratePerMinute;
  }

  /**
   * Resolves when a request may go. Callers are served in arrival order; an aborted wait gives
   * its place up and rejects with the signal's reason.
   */
  acquire(abortSignal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.take(abortSignal));
    // The next caller waits for this one's turn, not for its outcome.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** An AF429 came back: spend less, at once. */
  onThrottled(): void {
    this.refill();
    this.stats.throttled++;
    this.ratePerMinute = Math.max(
      this.budgetPerMinute * MIN_RATE_SHARE,
      this.ratePerMinute * this.decreaseFactor,
    );
    // The server has just said no: nothing saved up may go in a burst.
    this.tokens = Math.min(this.tokens, 0);
    this.calmSinceMs = this.now();
  }

  private async take(abortSignal?: AbortSignal): Promise<void> {
    for (;;) {
      abortSignal?.throwIfAborted();
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.stats.granted++;
        return;
      }
      const waitInMs = Math.ceil(((1 - this.tokens) * 60_000) / this.ratePerMinute);
      this.stats.waitedInMs += waitInMs;
      await this.wait(waitInMs, abortSignal);
    }
  }

  private refill(): void {
    const now = this.now();
    // Probe back up, one step per calm interval, never past the budget.
    while (
      this.ratePerMinute < this.budgetPerMinute &&
      now - this.calmSinceMs >= this.probeIntervalInMs
    ) {
      this.calmSinceMs += this.probeIntervalInMs;
      this.ratePerMinute = Math.min(
        this.budgetPerMinute,
        this.ratePerMinute + this.probeStepPerMinute,
      );
    }
    const elapsed = Math.max(0, now - this.refilledAtMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerMinute) / 60_000);
    this.refilledAtMs = now;
  }
}
