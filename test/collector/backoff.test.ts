import { describe, expect, it, vi } from "vitest";
import {
  abortableDelay,
  abortError,
  backoffDelayInMs,
  computeBackoffDelay,
  isAbortError,
  isRetryExhaustedError,
  MAX_RETRY_AFTER_IN_MS,
  RetryExhaustedError,
  retryAsync,
  retryDelayInMs,
  sleep,
} from "../../collector/src/backoff";

describe("computeBackoffDelay", () => {
  it("doubles the ceiling per retry and scales it by the random draw", () => {
    const options = { baseDelayInMs: 100, maxDelayInMs: 10_000, random: () => 0.5 };
    expect([0, 1, 2, 3].map((n) => computeBackoffDelay(n, options))).toEqual([50, 100, 200, 400]);
  });

  it("never exceeds the clamp, however many retries", () => {
    const options = { baseDelayInMs: 100, maxDelayInMs: 1_000, random: () => 0.999999 };
    expect(computeBackoffDelay(5, options)).toBe(999);
    expect(computeBackoffDelay(500, options)).toBe(999);
  });

  it("can wait zero (full jitter starts at zero)", () => {
    expect(computeBackoffDelay(3, { random: () => 0 })).toBe(0);
  });
});

describe("backoffDelayInMs", () => {
  it("doubles per attempt from the initial delay, half of it fixed and half jittered", () => {
    const options = { initialDelayInMs: 100, maxDelayInMs: 10_000, random: () => 0.5 };
    expect([1, 2, 3, 4].map((n) => backoffDelayInMs(n, options))).toEqual([75, 150, 300, 600]);
  });

  it("never exceeds the clamp and never drops below half of it", () => {
    const options = { initialDelayInMs: 100, maxDelayInMs: 1_000 };
    expect(backoffDelayInMs(500, { ...options, random: () => 0.999999 })).toBe(1_000);
    expect(backoffDelayInMs(500, { ...options, random: () => 0 })).toBe(500);
  });
});

describe("retryDelayInMs", () => {
  it("uses the server's Retry-After when present, capped at MAX_RETRY_AFTER_IN_MS", () => {
    expect(retryDelayInMs(3, 2_500, { random: () => 0 })).toBe(2_500);
    expect(retryDelayInMs(1, 0, { random: () => 0 })).toBe(0);
    expect(retryDelayInMs(1, 24 * 3_600_000)).toBe(MAX_RETRY_AFTER_IN_MS);
  });

  it("falls back to the backoff when Retry-After is absent or unusable", () => {
    const options = { initialDelayInMs: 100, random: () => 0 };
    expect(retryDelayInMs(2, undefined, options)).toBe(100);
    expect(retryDelayInMs(2, Number.NaN, options)).toBe(100);
    expect(retryDelayInMs(2, -1, options)).toBe(100);
  });
});

describe("abortableDelay", () => {
  it("rejects with an AbortError that keeps the abort reason as its cause", async () => {
    const controller = new AbortController();
    const pending = abortableDelay(60_000, controller.signal);
    const reason = new Error("shutting down");
    controller.abort(reason);
    const error = await pending.catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect((error as Error).cause).toBe(reason);
  });

  it("passes an abort reason that already is an AbortError through unchanged", () => {
    const controller = new AbortController();
    controller.abort();
    expect(abortError(controller.signal)).toBe(controller.signal.reason);
  });
});

describe("sleep", () => {
  it("rejects with the caller's abort reason when aborted mid-wait", async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error("shutting down"));
    await expect(pending).rejects.toThrow("shutting down");
  });

  it("rejects at once when the signal is already aborted", async () => {
    await expect(sleep(1, AbortSignal.abort(new Error("already")))).rejects.toThrow("already");
  });
});

describe("retryAsync", () => {
  it("returns the first success and reports each retry", async () => {
    const onRetry = vi.fn();
    let calls = 0;
    const result = await retryAsync(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`fail ${calls}`);
        return "ok";
      },
      { maxAttempts: 5, deadlineInMs: 10_000, baseDelayInMs: 1, random: () => 0, onRetry },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
    expect(onRetry).toHaveBeenCalledTimes(2);
    expect(onRetry.mock.calls[0]![0]).toMatchObject({ attempt: 1, delayInMs: 0 });
  });

  it("gives up after the attempt limit with the reason and the last error", async () => {
    const onGiveUp = vi.fn();
    const error = await retryAsync(
      async (attempt) => {
        throw new Error(`boom ${attempt}`);
      },
      { maxAttempts: 3, deadlineInMs: 10_000, random: () => 0, onGiveUp },
    ).catch((e: unknown) => e);
    expect(isRetryExhaustedError(error)).toBe(true);
    const exhausted = error as RetryExhaustedError;
    expect(exhausted.reason).toBe("attempts");
    expect(exhausted.attempts).toBe(3);
    expect((exhausted.lastError as Error).message).toBe("boom 3");
    expect(exhausted.message).toContain("attempt limit reached");
    expect(onGiveUp).toHaveBeenCalledWith(exhausted);
  });

  it("gives up before a wait that would end past the deadline", async () => {
    let clock = 0;
    let calls = 0;
    const error = await retryAsync(
      async () => {
        calls++;
        clock += 400;
        throw new Error("slow");
      },
      {
        maxAttempts: 100,
        deadlineInMs: 1_000,
        nowMs: () => clock,
        shouldRetry: () => ({ retry: true, delayInMs: 0 }),
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect((error as RetryExhaustedError).reason).toBe("deadline");
    expect(calls).toBe(3);
  });

  it("rethrows an error the decision does not retry, unchanged", async () => {
    const original = new Error("permanent");
    let calls = 0;
    const error = await retryAsync(
      async () => {
        calls++;
        throw original;
      },
      { maxAttempts: 5, deadlineInMs: 10_000, shouldRetry: () => ({ retry: false }) },
    ).catch((e: unknown) => e);
    expect(error).toBe(original);
    expect(calls).toBe(1);
  });

  it("uses the delay the decision asks for (e.g. Retry-After) instead of the backoff", async () => {
    const onRetry = vi.fn();
    let calls = 0;
    await retryAsync(
      async () => {
        if (++calls === 1) throw new Error("throttled");
      },
      {
        maxAttempts: 2,
        deadlineInMs: 10_000,
        shouldRetry: () => ({ retry: true, delayInMs: 5 }),
        onRetry,
      },
    );
    expect(onRetry.mock.calls[0]![0].delayInMs).toBe(5);
  });

  it("stops waiting and throws the abort reason when aborted between attempts", async () => {
    const controller = new AbortController();
    const pending = retryAsync(
      async () => {
        throw new Error("transient");
      },
      {
        maxAttempts: 10,
        deadlineInMs: 600_000,
        abortSignal: controller.signal,
        shouldRetry: () => ({ retry: true, delayInMs: 60_000 }),
      },
    );
    setTimeout(() => controller.abort(new Error("stop requested")), 5);
    await expect(pending).rejects.toThrow("stop requested");
  });
});
