import { afterEach, describe, expect, it } from "vitest";
import { ManagementApiClient } from "../../../collector/src/source/client";
import {
  isStartGuardError,
  type StartGuardError,
  SubscriptionManager,
} from "../../../collector/src/source/subscriptions";
import { CONTENT_TYPES, type ContentType } from "../../../domain/contentTypes";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import {
  clientOptionsFor,
  credentialFor,
  drain,
  feedRequests,
  HOUR,
  MINUTE,
  manualClock,
  type SourceHarness,
  startHarness,
} from "./helpers";

let emulator: Emulator | undefined;
let harness: SourceHarness | undefined;
afterEach(async () => {
  await emulator?.stop();
  await harness?.emulator.stop();
  emulator = undefined;
  harness = undefined;
});

const starts = (e: Emulator) =>
  feedRequests(e).filter((r) => r.path.endsWith("/subscriptions/start"));

describe("SubscriptionManager against the emulator", () => {
  it("starts every content type that is not enabled, and only those", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const client = new ManagementApiClient(clientOptionsFor(emulator));
    const first = new SubscriptionManager({ client, contentTypes: CONTENT_TYPES });
    expect(await first.ensureSubscribed()).toEqual({ enabled: [], started: [...CONTENT_TYPES] });
    expect(starts(emulator).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    const second = new SubscriptionManager({ client, contentTypes: CONTENT_TYPES });
    expect(await second.ensureSubscribed()).toEqual({ enabled: [...CONTENT_TYPES], started: [] });
    expect(starts(emulator)).toHaveLength(5);
  });

  it("treats AF20024 (already enabled, nothing changed) as success", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const client = new ManagementApiClient(clientOptionsFor(emulator));
    expect(await client.startSubscription("Audit.Exchange")).toEqual({
      alreadyEnabled: false,
      status: "enabled",
    });
    expect(await client.startSubscription("Audit.Exchange")).toEqual({
      alreadyEnabled: true,
      status: "enabled",
    });
    expect(starts(emulator).map((r) => [r.status, r.code])).toEqual([
      [200, undefined],
      [400, "AF20024"],
    ]);
  });

  it("never sends a start within 15 minutes of the previous one, and reports when the next is allowed", async () => {
    const clock = manualClock();
    emulator = await startEmulator({ nowMs: clock.now, scenario: { historyHours: 1 } });
    const client = new ManagementApiClient(clientOptionsFor(emulator));
    const manager = new SubscriptionManager({
      client,
      contentTypes: ["Audit.General"],
      nowMs: clock.now,
    });
    await manager.ensureSubscribed();
    const startedAt = clock.now();

    const error = await manager.resubscribe("Audit.General").catch((e: unknown) => e);
    expect(isStartGuardError(error)).toBe(true);
    expect((error as StartGuardError).retryAtMs).toBe(startedAt + 15 * MINUTE);
    clock.advance(15 * MINUTE - 1);
    await expect(manager.resubscribe("Audit.General")).rejects.toThrow(/one start per 15 minutes/);
    expect(starts(emulator)).toHaveLength(1);

    clock.advance(1);
    await manager.resubscribe("Audit.General");
    expect(starts(emulator)).toHaveLength(2);
  });

  it("waits out the guard instead when asked to", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const client = new ManagementApiClient(clientOptionsFor(emulator));
    const manager = new SubscriptionManager({
      client,
      contentTypes: ["Audit.General"],
      guardPolicy: "wait",
      startGuardInMs: 150,
    });
    await manager.ensureSubscribed();
    const began = Date.now();
    await manager.resubscribe("Audit.General");
    expect(Date.now() - began).toBeGreaterThanOrEqual(100);
    expect(starts(emulator)).toHaveLength(2);
  });

  it("does not hold the guard after a start refused for configuration reasons", async () => {
    emulator = await startEmulator({
      scenario: { historyHours: 1 },
      knobs: { auditDisabled: true },
    });
    const client = new ManagementApiClient(clientOptionsFor(emulator));
    const manager = new SubscriptionManager({ client, contentTypes: ["Audit.General"] });
    await expect(manager.resubscribe("Audit.General")).rejects.toThrow(/audit log search/);
    expect(manager.guardUntil("Audit.General")).toBeUndefined();
  });
});

describe("ActivitySource re-subscribing", () => {
  it("re-subscribes a stopped subscription (AF20023) once the guard allows and then lists", async () => {
    const SP: ContentType = "Audit.SharePoint";
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 3,
          blobsPerHour: 2,
          recordsPerBlob: [1, 2],
          lateRate: 0,
        },
      },
      { initialLookbackInMs: 4 * HOUR },
    );
    const { source, emulator: e, clock } = harness;
    await source.start();
    clock.advance(16 * MINUTE);
    const token = (await credentialFor(e).getToken("https://manage.office.com/.default"))!.token;
    const stop = await fetch(
      `${e.url}/api/v1.0/${e.tenant.tenantId}/activity/feed/subscriptions/stop?contentType=${SP}&PublisherIdentifier=${e.tenant.publisherId}`,
      { method: "POST", headers: { Authorization: `Bearer ${token}` } },
    );
    expect(stop.status).toBe(200);

    const result = await drain(source, SP, undefined);
    const listing = feedRequests(e).filter((r) => r.path.endsWith("/subscriptions/content"));
    expect(listing[0]).toMatchObject({ status: 400, code: "AF20023" });
    expect(starts(e).map((r) => r.status)).toEqual([200, 200]);
    expect([...new Set(result.ids)].sort()).toEqual([...e.truth.expectedRecordIds([SP])].sort());
  });
});
