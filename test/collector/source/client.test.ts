import { ClientSecretCredential } from "@azure/identity";
import { afterEach, describe, expect, it } from "vitest";
import {
  isManagementApiError,
  type ManagementApiError,
} from "../../../collector/src/source/apiError";
import { ManagementApiClient } from "../../../collector/src/source/client";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import { captureLogs, clientOptionsFor, feedRequests } from "./helpers";

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

async function failure(promise: Promise<unknown>): Promise<ManagementApiError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
  expect(isManagementApiError(error), String(error)).toBe(true);
  return error as ManagementApiError;
}

describe("ManagementApiClient against the emulator", () => {
  it("refreshes a rejected token once, then reports a configuration error", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    // A token for another audience is rejected however fresh it is.
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, { audience: "https://monitor.azure.com" }),
    );
    const error = await failure(client.listSubscriptions());
    expect(error.classification.action).toBe("fatal-config");
    expect(error.message).toMatch(/rejected a freshly issued token/);
    expect(feedRequests(emulator).map((r) => r.status)).toEqual([401, 401]);
  });

  it("reports a tenant mismatch (AF20010) as a configuration error naming AZURE_TENANT_ID", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, { tenantId: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" }),
    );
    const error = await failure(client.listSubscriptions());
    expect(error.code).toBe("AF20010");
    expect(error.classification.action).toBe("fatal-config");
    expect(error.message).toContain("AZURE_TENANT_ID");
    // Whatever the status (the emulator answers 401), the code decides: no token refresh.
    expect(feedRequests(emulator!)).toHaveLength(1);
  });

  it("gives up after the attempt limit with the count in the message", async () => {
    emulator = await startEmulator({
      scenario: { historyHours: 1 },
      knobs: { serverErrorRate: 1 },
    });
    const { logger, logs } = captureLogs();
    const client = new ManagementApiClient(clientOptionsFor(emulator, { maxAttempts: 3, logger }));
    const error = await failure(client.listSubscriptions());
    expect(error.attempts).toBe(3);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(
      /failed after 3 attempts \(attempt limit reached\): server error \(HTTP 503\)/,
    );
    expect(feedRequests(emulator)).toHaveLength(3);
    expect(logs.lines.filter((l) => l.includes("retrying"))).toHaveLength(2);
    expect(logs.lines.filter((l) => l.includes("gave up"))).toHaveLength(1);
  });

  it("times out a slow answer and retries it", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 }, knobs: { latencyMs: 400 } });
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, { fetchTimeoutInMs: 100, maxAttempts: 2 }),
    );
    const error = await failure(client.listSubscriptions());
    expect(error.code).toBe("timeout");
    expect(error.attempts).toBe(2);
  });

  it("stops at once when aborted during a retry wait", async () => {
    emulator = await startEmulator({
      scenario: { historyHours: 1 },
      knobs: { serverErrorRate: 1 },
    });
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, {
        retryBaseDelayInMs: 60_000,
        retryMaxDelayInMs: 60_000,
        random: () => 0.99,
      }),
    );
    const controller = new AbortController();
    const pending = client.listSubscriptions({ abortSignal: controller.signal });
    setTimeout(() => controller.abort(new Error("collector stopping")), 200);
    const began = Date.now();
    await expect(pending).rejects.toThrow("collector stopping");
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it("refuses to send the token to a URL outside the configured API and tenant", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const client = new ManagementApiClient(clientOptionsFor(emulator));
    const error = await failure(
      client.listContentPage(
        `https://attacker.example/api/v1.0/${emulator.tenant.tenantId}/activity/feed/subscriptions/content`,
      ),
    );
    expect(error.classification.action).toBe("fatal-config");
    expect(error.message).toMatch(/refused to send the token to attacker.example/);
    expect(emulator.truth.counters.tokensIssued).toBe(0);
  });

  it("reports a wrong client secret without the secret and as a configuration error", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const wrong = "not-the-secret-9f8e7d6c";
    const credential = new ClientSecretCredential(
      emulator.tenant.tenantId,
      emulator.tenant.clientId,
      wrong,
      {
        authorityHost: emulator.url,
        disableInstanceDiscovery: true,
      },
    );
    const client = new ManagementApiClient(clientOptionsFor(emulator, { credential }));
    const error = await failure(client.listSubscriptions());
    expect(error.classification.action).toBe("fatal-config");
    expect(error.code).toBe("AADSTS7000215");
    expect(error.message).toContain("AZURE_CLIENT_SECRET");
    expect(error.message).not.toContain(wrong);
    expect(feedRequests(emulator)).toEqual([]);
  });

  it("counts every request by operation, status and code", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const { createMetrics } = await import("../../../collector/src/metrics");
    const { Registry } = await import("prom-client");
    const metrics = createMetrics(new Registry());
    const client = new ManagementApiClient(clientOptionsFor(emulator, { metrics }));
    await client.startSubscription("Audit.General");
    await client.startSubscription("Audit.General");
    await client.listSubscriptions();
    const { values } = await metrics.apiRequests.get();
    const byKey = Object.fromEntries(
      values.map((v) => [`${v.labels.operation} ${v.labels.status} ${v.labels.code}`, v.value]),
    );
    expect(byKey).toEqual({
      "subscriptions/start 200 none": 1,
      "subscriptions/start 400 AF20024": 1,
      "subscriptions/list 200 none": 1,
    });
    const durations = await metrics.requestDurationSeconds.get();
    expect(
      durations.values.find(
        (v) => v.metricName?.endsWith("_count") && v.labels.operation === "subscriptions/start",
      )?.value,
    ).toBe(2);
  });
});
