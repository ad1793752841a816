import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import { type Azurite, startAzurite } from "../state/azurite";
import {
  exitCodeOf,
  idsInFile,
  killStragglers,
  sorted,
  spawnCollector,
  workspace,
} from "./harness";

const CONTENT_TYPES = ["Audit.Exchange", "Audit.SharePoint"];

let emulator: Emulator;
let azurite: Azurite;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startEmulator({
      seed: 31,
      scenario: {
        contentTypes: CONTENT_TYPES,
        historyHours: 6,
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

function blobEnv(container: string) {
  return workspace(emulator, {
    O365_CONTENT_TYPES: CONTENT_TYPES.join(","),
    AUDIT_STATE: `${azurite.blobEndpoint}/${container}`,
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
  });
}

describe("collector CLI with blob state (Azurite)", () => {
  it("run --once checkpoints in the container, and a second run repeats nothing", async () => {
    const ws = blobEnv("state-once");
    await exitCodeOf(spawnCollector(["run", "--once"], ws.env), 0);
    const expected = sorted(emulator.truth.expectedRecordIds(CONTENT_TYPES));
    expect(sorted(idsInFile(ws.filePath))).toEqual(expected);
    await exitCodeOf(spawnCollector(["run", "--once"], ws.env), 0);
    expect(sorted(idsInFile(ws.filePath))).toEqual(expected);
  }, 90_000);

  it("lets only one of two racing collectors collect; the other waits as standby", async () => {
    const ws = blobEnv("state-race");
    const a = spawnCollector(["run"], ws.env);
    const b = spawnCollector(["run"], ws.env);
    const standby = await Promise.any([
      a
        .waitForLog((l) => /another collector holds the state/.test(String(l.msg)), 60_000)
        .then(() => "a"),
      b
        .waitForLog((l) => /another collector holds the state/.test(String(l.msg)), 60_000)
        .then(() => "b"),
    ]);
    const [waiting, active] = standby === "a" ? [a, b] : [b, a];
    const expected = emulator.truth.expectedRecordIds(CONTENT_TYPES).size;
    const deadline = Date.now() + 60_000;
    while (idsInFile(ws.filePath, { live: true }).length < expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await active.waitForLog((l) => l.msg === "poll done", 60_000);
    // The standby never polled the API or delivered anything.
    expect(waiting.logs.some((l) => l.msg === "poll done")).toBe(false);
    active.child.kill("SIGTERM");
    waiting.child.kill("SIGTERM");
    await Promise.all([exitCodeOf(active, 0), exitCodeOf(waiting, 0)]);
    const delivered = idsInFile(ws.filePath);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(sorted(delivered)).toEqual(sorted(emulator.truth.expectedRecordIds(CONTENT_TYPES)));
  }, 120_000);
});
