import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { ManagementApiError } from "../../../collector/src/source/apiError";
import { classifyApiResponse } from "../../../collector/src/source/classifier";
import { resolveNextPageUri } from "../../../collector/src/source/client";
import {
  INTERACTIVE_RETRY_PRESET,
  ManagementRetryPolicy,
} from "../../../collector/src/source/retryPolicy";
import { TOKEN_REFRESH_MARGIN_IN_MS, TokenCache } from "../../../collector/src/source/tokenCache";

const TENANT = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const location = { baseUrl: "https://manage.office.com", tenantId: TENANT };
const feed = `https://manage.office.com/api/v1.0/${TENANT}/activity/feed`;

/** A credential that hands out numbered tokens and records what it was asked. */
function countingCredential(lifetimeInMs: number, nowMs: () => number) {
  const calls: GetTokenOptions[] = [];
  const credential: TokenCredential = {
    async getToken(_scopes, options): Promise<AccessToken> {
      calls.push(options ?? {});
      await Promise.resolve();
      return { token: `token-${calls.length}`, expiresOnTimestamp: nowMs() + lifetimeInMs };
    },
  };
  return { credential, calls };
}

function apiError(status: number, code?: string, retryAfterInMs?: number): ManagementApiError {
  return new ManagementApiError({
    operation: "subscriptions/list",
    status,
    code,
    classification: classifyApiResponse({ status, code, operation: "subscriptions/list" }),
    retryAfterInMs,
  });
}

describe("TokenCache", () => {
  it("serves a cached token until the refresh margin before expiry, then gets a new one", async () => {
    let now = 0;
    const { credential, calls } = countingCredential(60 * 60_000, () => now);
    const cache = new TokenCache({ credential, scope: "https://x/.default", nowMs: () => now });
    expect(await cache.getToken()).toBe("token-1");
    now = 60 * 60_000 - TOKEN_REFRESH_MARGIN_IN_MS - 1;
    expect(await cache.getToken()).toBe("token-1");
    now += 1;
    expect(await cache.getToken()).toBe("token-2");
    expect(calls).toHaveLength(2);
  });

  it("shares one request between concurrent callers", async () => {
    const { credential, calls } = countingCredential(60 * 60_000, () => 0);
    const cache = new TokenCache({ credential, scope: "https://x/.default", nowMs: () => 0 });
    const tokens = await Promise.all([cache.getToken(), cache.getToken(), cache.getToken()]);
    expect(tokens).toEqual(["token-1", "token-1", "token-1"]);
    expect(calls).toHaveLength(1);
  });

  it("skips its cache and MSAL's (a claims challenge) when forced", async () => {
    const { credential, calls } = countingCredential(60 * 60_000, () => 0);
    const cache = new TokenCache({ credential, scope: "https://x/.default", nowMs: () => 0 });
    await cache.getToken();
    expect(await cache.getToken({ forceRefresh: true })).toBe("token-2");
    expect(calls[0]?.claims).toBeUndefined();
    expect(calls[1]?.claims).toContain('"nbf"');
    expect(await cache.getToken()).toBe("token-2");
  });
});

describe("ManagementRetryPolicy", () => {
  const fast = { retryBaseDelayInMs: 1, retryMaxDelayInMs: 1, throttleBaseDelayInMs: 1 };

  it("renews the token once after a 401, then calls a second 401 a configuration error", async () => {
    const forced: boolean[] = [];
    const policy = new ManagementRetryPolicy({ ...fast, maxAttempts: 5 });
    const error = await policy
      .run("subscriptions/list", {}, async (forceRefresh) => {
        forced.push(forceRefresh);
        throw apiError(401);
      })
      .catch((e: unknown) => e as ManagementApiError);
    expect(forced).toEqual([false, true]);
    expect(error.classification.action).toBe("fatal-config");
    expect(error.message).toMatch(/rejected a freshly issued token/);
  });

  it("stops at once on a configuration error and keeps its code", async () => {
    let attempts = 0;
    const policy = new ManagementRetryPolicy({ ...fast, maxAttempts: 5 });
    const error = await policy
      .run("subscriptions/list", {}, async () => {
        attempts++;
        throw apiError(400, "AF20010");
      })
      .catch((e: unknown) => e as ManagementApiError);
    expect(attempts).toBe(1);
    expect(error.code).toBe("AF20010");
    expect(error.attempts).toBeUndefined();
  });

  it("caps a Retry-After at the throttle ceiling and reports the attempts when they run out", async () => {
    const waits: number[] = [];
    const policy = new ManagementRetryPolicy({
      ...fast,
      maxAttempts: 2,
      throttleMaxDelayInMs: 5,
      logger: {
        warn: (fields: { delayInMs?: number }) => {
          if (fields.delayInMs !== undefined) waits.push(fields.delayInMs);
        },
      } as never,
    });
    const error = await policy
      .run("subscriptions/list", {}, async () => {
        throw apiError(429, undefined, 60_000);
      })
      .catch((e: unknown) => e as ManagementApiError);
    expect(waits).toEqual([5]);
    expect(error.attempts).toBe(2);
    expect(error.giveUp).toBe("attempts");
    expect(error.classification.throttled).toBe(true);
  });

  it("keeps the interactive preset short enough for a person waiting at a terminal", () => {
    expect(INTERACTIVE_RETRY_PRESET.maxAttempts).toBeLessThanOrEqual(3);
    expect(INTERACTIVE_RETRY_PRESET.deadlineInMs).toBeLessThanOrEqual(10_000);
    expect(INTERACTIVE_RETRY_PRESET.throttleMaxDelayInMs).toBeLessThan(
      INTERACTIVE_RETRY_PRESET.deadlineInMs,
    );
  });
});

describe("resolveNextPageUri", () => {
  it("follows a link on the configured API and tenant verbatim", () => {
    const raw = `${feed}/subscriptions/content?contentType=Audit.Exchange&nextPage=abc`;
    expect(resolveNextPageUri(raw, location)).toEqual({ kind: "verbatim", url: raw });
  });

  it("rebuilds a link on another host on the configured root when it carries a nextPage token", () => {
    const verdict = resolveNextPageUri(
      `https://elsewhere.example/api/v1.0/${TENANT}/activity/feed/subscriptions/content?contentType=Audit.Exchange&nextPage=abc`,
      location,
    );
    expect(verdict).toMatchObject({
      kind: "rebuilt",
      url: `${feed}/subscriptions/content?contentType=Audit.Exchange&nextPage=abc`,
    });
  });

  it("drops a link to another tenant without a nextPage token, and anything that is not a URL", () => {
    const otherTenant =
      "https://manage.office.com/api/v1.0/11111111-2222-3333-4444-555555555555/activity/feed/subscriptions/content";
    expect(resolveNextPageUri(otherTenant, location).kind).toBe("dropped");
    expect(resolveNextPageUri("not a url", location)).toEqual({
      kind: "dropped",
      problem: "it is not a URL",
    });
  });
});
