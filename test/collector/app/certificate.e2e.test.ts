import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_TYPES } from "../../../domain/contentTypes";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import {
  exitCodeOf,
  idsInFile,
  killStragglers,
  sorted,
  spawnCollector,
  type Workspace,
  workspace,
} from "./harness";

afterEach(killStragglers);

/** A workspace whose app credential is the emulator's certificate, with no secret anywhere. */
function certificateWorkspace(emulator: Emulator): Workspace {
  const ws = workspace(emulator, {
    AZURE_CLIENT_CERTIFICATE_PATH: emulator.tenant.certificatePath,
  });
  delete ws.env.AZURE_CLIENT_SECRET;
  return ws;
}

describe("collector CLI with a certificate credential against the emulator", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 29,
      scenario: {
        historyHours: 4,
        blobsPerHour: 2,
        recordsPerBlob: [3, 12],
        duplicateRate: 0.05,
        lateRate: 0,
        pageSize: 5,
      },
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("run --once with AZURE_CLIENT_CERTIFICATE_PATH and no secret delivers every record exactly once", async () => {
    const ws = certificateWorkspace(emulator);
    expect(ws.env.AZURE_CLIENT_SECRET).toBeUndefined();
    const before = emulator.truth.requestLog().length;
    const collector = spawnCollector(["run", "--once"], ws.env);
    await exitCodeOf(collector, 0);

    const delivered = idsInFile(ws.filePath);
    const expected = emulator.truth.expectedRecordIds();
    for (const contentType of CONTENT_TYPES) {
      expect(emulator.truth.expectedRecordIds([contentType]).size).toBeGreaterThan(0);
    }
    expect(delivered.filter((id, index) => delivered.indexOf(id) !== index)).toEqual([]);
    expect(sorted(delivered)).toEqual(sorted(expected));

    // Every token came from a certificate assertion the emulator verified.
    const tokenCalls = emulator.truth
      .requestLog()
      .slice(before)
      .filter((entry) => entry.path.endsWith("/oauth2/v2.0/token"));
    expect(tokenCalls.length).toBeGreaterThan(0);
    expect(tokenCalls.every((entry) => entry.status === 200)).toBe(true);
    const pem = readFileSync(emulator.tenant.certificatePath, "utf8");
    const keyBody = pem.split("-----BEGIN PRIVATE KEY-----")[1]!.split("\n")[1]!;
    const logText = JSON.stringify(collector.logs) + collector.plain.join("\n");
    expect(logText).not.toContain(keyBody);
  }, 90_000);

  it("run --once with an expired certificate registration exits 1 naming AZURE_CLIENT_CERTIFICATE_PATH", async () => {
    const saved = emulator.knobs.certificateExpiresAtMs;
    emulator.knobs.certificateExpiresAtMs = emulator.now() - 60_000;
    try {
      const ws = certificateWorkspace(emulator);
      const collector = spawnCollector(["run", "--once"], ws.env);
      await exitCodeOf(collector, 1);
      const text = [...collector.plain, ...collector.logs.map((l) => JSON.stringify(l))].join("\n");
      expect(text).toMatch(/AADSTS700027/);
      expect(text).toMatch(/AZURE_CLIENT_CERTIFICATE_PATH/);
      expect(idsInFile(ws.filePath)).toEqual([]);
    } finally {
      emulator.knobs.certificateExpiresAtMs = saved;
    }
  }, 60_000);
});
