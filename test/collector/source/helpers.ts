import { ClientSecretCredential } from "@azure/identity";
import { Registry } from "prom-client";
import { createLogger } from "../../../collector/src/log";
import { createMetrics } from "../../../collector/src/metrics";
import {
  ActivitySource,
  type ActivitySourceOptions,
} from "../../../collector/src/source/activitySource";
import type { ManagementApiClientOptions } from "../../../collector/src/source/client";
import type { Checkpoint, SourceItem } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../../emulator/src/index";
import { seededRandom } from "./seeded";

/** A fixed instant for tests that drive both clocks. */
export const T0 = Date.UTC(2026, 2, 10, 12, 0, 0);

/** A clock the test moves by hand, shared by the emulator and the source. */
export function manualClock(startMs: number = T0) {
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
  };
}

/** Log lines the source wrote, parsed. */
export interface CapturedLogs {
  lines: string[];
  entries(): Array<Record<string, unknown>>;
}

export function captureLogs() {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    destination: { write: (line: string) => lines.push(line) },
  });
  const logs: CapturedLogs = {
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
  return { logger, logs };
}

export function credentialFor(emulator: Emulator): ClientSecretCredential {
  return new ClientSecretCredential(
    emulator.tenant.tenantId,
    emulator.tenant.clientId,
    emulator.tenant.clientSecret,
    {
      authorityHost: emulator.url,
      disableInstanceDiscovery: true,
    },
  );
}

/** Client options for the emulator with short, seeded retry waits. */
export function clientOptionsFor(
  emulator: Emulator,
  overrides: Partial<ManagementApiClientOptions> = {},
) {
  return {
    baseUrl: emulator.url,
    tenantId: emulator.tenant.tenantId,
    publisherId: emulator.tenant.publisherId,
    credential: credentialFor(emulator),
    audience: "https://manage.office.com",
    retryBaseDelayInMs: 5,
    retryMaxDelayInMs: 40,
    throttleBaseDelayInMs: 10,
    throttleMaxDelayInMs: 60,
    random: seededRandom(7),
    ...overrides,
  } satisfies ManagementApiClientOptions;
}

export interface SourceHarness {
  emulator: Emulator;
  clock: ReturnType<typeof manualClock>;
  source: ActivitySource;
  metrics: ReturnType<typeof createMetrics>;
  logs: CapturedLogs;
}

/** An emulator on a manual clock and an ActivitySource pointed at it. */
export async function startHarness(
  emulatorOptions: EmulatorOptions,
  sourceOptions: Partial<ActivitySourceOptions> = {},
  clientOverrides: Partial<ManagementApiClientOptions> = {},
): Promise<SourceHarness> {
  const clock = manualClock();
  const emulator = await startEmulator({ nowMs: clock.now, ...emulatorOptions });
  const metrics = createMetrics(new Registry());
  const { logger, logs } = captureLogs();
  const source = new ActivitySource({
    contentTypes: (emulatorOptions.scenario?.contentTypes as ContentType[] | undefined) ?? [
      "Audit.SharePoint",
    ],
    client: clientOptionsFor(emulator, clientOverrides),
    nowMs: clock.now,
    logger,
    metrics,
    blobRetryDelayInMs: 5,
    random: seededRandom(11),
    ...sourceOptions,
  });
  return { emulator, clock, source, metrics, logs };
}

export interface Drained {
  ids: string[];
  items: SourceItem[];
  checkpoint: Checkpoint | undefined;
}

/** Consumes one poll the way the pipeline does: items in order, each blob's records in full. */
export async function drain(
  source: ActivitySource,
  contentType: ContentType,
  checkpoint: Checkpoint | undefined,
  onItem?: (item: SourceItem, index: number) => void,
): Promise<Drained> {
  const ids: string[] = [];
  const items: SourceItem[] = [];
  let last = checkpoint;
  for await (const item of source.poll(contentType, checkpoint)) {
    onItem?.(item, items.length);
    items.push(item);
    if (item.kind === "blob") {
      for await (const record of item.records()) ids.push(record.id);
    }
    last = item.checkpointAfter;
  }
  return { ids, items, checkpoint: last };
}

/** Sum of a counter's values whose labels match. */
export async function counterValue(
  counter: {
    get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number }> }>;
  },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Requests to the Management Activity API feed paths in the emulator's log. */
export function feedRequests(emulator: Emulator) {
  return emulator.truth.requestLog().filter((entry) => entry.path.includes("/activity/feed/"));
}

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
export const DAY = 24 * HOUR;
