/**
 * The collector as a scheduled Container Apps Job runs it: `run --once` with the checkpoint in
 * a blob container (Azurite) and the Logs Ingestion sink (the emulator), one execution after the
 * other, and an execution that starts while another run still holds the checkpoint lease.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import { type Azurite, startAzurite } from "../state/azurite";
import { exitCodeOf, killStragglers, sorted, spawnCollector, workspace } from "./harness";

const CONTENT_TYPES = ["Audit.Exchange", "Audit.SharePoint"];
/** The state document of a tenant (collector/src/run/parts.ts and state/blobState.ts). */
const stateBlob = (tenantId: string) => `auditbridge/${tenantId}/state.json`;

let emulator: Emulator;
let azurite: Azurite;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startEmulator({
      seed: 47,
      scenario: {
        contentTypes: CONTENT_TYPES,
        historyHours: 4,
        blobsPerHour: 2,
        recordsPerBlob: [5, 20],
        duplicateRate: 0.1,
        lateRate: 0,
      },
    }),
    startAzurite(),
  ]);
});
afterEach(killStragglers);
afterAll(async () => {
  await Promise.all([emulator?.stop(), azurite?.stop()]);
});

/** The environment the job's container gets: blob state, Logs Ingestion, no file sink. */
function jobEnv(container: string) {
  return workspace(emulator, {
    O365_CONTENT_TYPES: CONTENT_TYPES.join(","),
    AUDIT_STATE: `${azurite.blobEndpoint}/${container}`,
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    AUDIT_SINK: "logs-ingestion",
    LOGS_INGESTION_ENDPOINT: emulator.url,
    LOGS_INGESTION_RULE_ID: emulator.ingestion.ruleId,
  }).env;
}

function ingestedIds(): string[] {
  return emulator.truth.ingestedRows().map((r) => String(r.row.RecordId));
}

function activityRequests(): number {
  return emulator.truth.requestLog().filter((r) => r.path.includes("/activity/feed/")).length;
}

describe("scheduled executions (run --once, blob state, Logs Ingestion)", () => {
  it("delivers every record to the workspace and exits 0; the next execution repeats nothing", async () => {
    const env = jobEnv("job-runs");
    const before = ingestedIds().length;
    const first = spawnCollector(["run", "--once"], env);
    await exitCodeOf(first, 0);
    const expected = sorted(emulator.truth.expectedRecordIds(CONTENT_TYPES));
    const delivered = ingestedIds().slice(before);
    expect(sorted(delivered)).toEqual(expected);
    expect(first.logs.some((l) => /holds the checkpoint/.test(String(l.msg)))).toBe(false);

    const second = spawnCollector(["run", "--once"], env);
    await exitCodeOf(second, 0);
    expect(ingestedIds().slice(before)).toHaveLength(expected.length);
  }, 90_000);

  it("exits 0 without collecting, and says why, when another run holds the checkpoint lease", async () => {
    const container = "job-held";
    const env = jobEnv(container);
    // A first execution creates the state document.
    await exitCodeOf(spawnCollector(["run", "--once"], env), 0);

    // Another run (the previous execution, still catching up) holds the lease.
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient(container)
      .getBlobClient(stateBlob(emulator.tenant.tenantId));
    const lease = blob.getBlobLeaseClient();
    await lease.acquireLease(60);
    const rowsBefore = ingestedIds().length;
    const requestsBefore = activityRequests();
    try {
      const held = spawnCollector(["run", "--once"], env);
      await exitCodeOf(held, 0);
      const line = held.logs.find(
        (l) =>
          l.msg === "another run holds the checkpoint lease; this run exits without collecting",
      );
      expect(line).toBeDefined();
      expect(line?.level).toBe("warn");
      expect(String(line?.state)).toMatch(/leased by another collector/);
      // Nothing collected and nothing delivered: the holder does this run's work.
      expect(activityRequests()).toBe(requestsBefore);
      expect(ingestedIds()).toHaveLength(rowsBefore);
      expect(held.logs.some((l) => l.msg === "poll done")).toBe(false);
      expect(held.plain).toEqual([]);
    } finally {
      await lease.releaseLease();
    }

    // Once the holder is done, the next execution runs normally.
    const next = spawnCollector(["run", "--once"], env);
    await exitCodeOf(next, 0);
    expect(next.logs.some((l) => /holds the checkpoint/.test(String(l.msg)))).toBe(false);
    expect(activityRequests()).toBeGreaterThan(requestsBefore);
  }, 90_000);
});
