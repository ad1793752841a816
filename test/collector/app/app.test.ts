import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollectorRunResult, judgeFailure, runCollector } from "../../../collector/src/app";
import { loadConfig } from "../../../collector/src/config";
import { createLogger } from "../../../collector/src/log";
import { createMetrics } from "../../../collector/src/metrics";
import { PipelineError } from "../../../collector/src/pipeline/pipeline";
import { ManagementApiError } from "../../../collector/src/source/apiError";
import { collectorConnectionEnv, type Emulator, startEmulator } from "../../../emulator/src/index";
import { idsInFile, sorted, until } from "./harness";

const CONTENT_TYPES = ["Audit.Exchange", "Audit.General"] as const;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    seed: 29,
    scenario: {
      contentTypes: [...CONTENT_TYPES],
      historyHours: 3,
      blobsPerHour: 2,
      recordsPerBlob: [3, 10],
      lateRate: 0,
    },
  });
});
afterAll(async () => {
  await emulator?.stop();
});

/** A collector running in this process, its logs captured. */
function start(
  dir: string,
  extra: { configErrorRetryInMs?: number; stateLockedRetryInMs?: number } = {},
) {
  const config = loadConfig(
    {},
    {
      ...collectorConnectionEnv(emulator),
      O365_CONTENT_TYPES: CONTENT_TYPES.join(","),
      AUDIT_STATE: `sqlite:${path.join(dir, "state.db")}`,
      AUDIT_FILE_PATH: path.join(dir, "audit.ndjson"),
      AUDIT_QUARANTINE_DIR: path.join(dir, "quarantine"),
      AUDIT_HTTP_PORT: "0",
      AUDIT_POLL_INTERVAL: "1s",
      AUDIT_LOG_LEVEL: "debug",
    },
  );
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "debug",
    destination: {
      write: (line: string) => {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  const controller = new AbortController();
  let port: number | undefined;
  const done: Promise<CollectorRunResult> = runCollector({
    config,
    logger,
    metrics: createMetrics(),
    once: false,
    abortSignal: controller.signal,
    onListening: (p) => {
      port = p;
    },
    ...extra,
  });
  const healthz = async () => {
    if (port === undefined) return undefined;
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { logs, done, healthz, stop: () => controller.abort(new Error("test stop")) };
}

describe("runCollector", () => {
  it("recovers on its own once audit logging is turned on, without a restart", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "auditbridge-app-"));
    emulator.knobs.auditDisabled = true;
    const collector = start(dir, { configErrorRetryInMs: 300 });
    try {
      const misconfigured = await until(async () => {
        const answer = await collector.healthz();
        const types = answer?.body.contentTypes as
          | Record<string, { status: string; cause?: string }>
          | undefined;
        return answer?.status === 503 && types?.["Audit.Exchange"]?.status === "misconfigured"
          ? types
          : undefined;
      });
      expect(misconfigured["Audit.Exchange"]?.cause).toMatch(/unified audit logging is off/);
      expect(idsInFile(path.join(dir, "audit.ndjson"))).toEqual([]);

      emulator.knobs.auditDisabled = false;
      const expected = sorted(emulator.truth.expectedRecordIds([...CONTENT_TYPES]));
      await until(() =>
        idsInFile(path.join(dir, "audit.ndjson"), { live: true }).length >= expected.length
          ? true
          : undefined,
      );
      expect(sorted(idsInFile(path.join(dir, "audit.ndjson")))).toEqual(expected);
      await until(async () => ((await collector.healthz())?.status === 200 ? true : undefined));
    } finally {
      emulator.knobs.auditDisabled = false;
      collector.stop();
    }
    expect(await collector.done).toEqual({ exitCode: 0 });
  });

  it("waits as a standby while another collector holds the state, then takes over", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "auditbridge-app-"));
    const first = start(dir);
    await until(async () => ((await first.healthz())?.status === 200 ? true : undefined));
    const second = start(dir, { stateLockedRetryInMs: 200 });
    try {
      const standby = await until(async () => {
        const answer = await second.healthz();
        return answer?.status === 503 && /^standby: /.test(String(answer.body.cause))
          ? answer
          : undefined;
      });
      expect(String(standby.body.cause)).toMatch(/state/i);
      first.stop();
      expect(await first.done).toEqual({ exitCode: 0 });
      const expected = emulator.truth.expectedRecordIds([...CONTENT_TYPES]).size;
      await until(() =>
        idsInFile(path.join(dir, "audit.ndjson"), { live: true }).length >= expected
          ? true
          : undefined,
      );
      await until(async () => ((await second.healthz())?.status === 200 ? true : undefined));
      expect(second.logs.some((l) => /another collector holds the state/.test(String(l.msg)))).toBe(
        true,
      );
    } finally {
      first.stop();
      second.stop();
    }
    expect(await second.done).toEqual({ exitCode: 0 });
    const delivered = idsInFile(path.join(dir, "audit.ndjson"));
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(sorted(delivered)).toEqual(sorted(emulator.truth.expectedRecordIds([...CONTENT_TYPES])));
  });
});

describe("judgeFailure", () => {
  it("reads the classification of a Management API error, also inside a pipeline error", () => {
    const apiError = new ManagementApiError({
      operation: "subscriptions/content",
      status: 401,
      code: "AF10001",
      classification: {
        action: "fatal-config",
        reason: "the app lacks a Management API permission (AF10001)",
      },
    });
    expect(judgeFailure(apiError)).toEqual({
      cause: "the app lacks a Management API permission (AF10001)",
      misconfigured: true,
    });
    expect(
      judgeFailure(new PipelineError("pipeline stopped", { cause: apiError })).misconfigured,
    ).toBe(true);
  });

  it("treats anything else as transient and keeps only its first line", () => {
    expect(judgeFailure(new Error("socket hang up\n    at x.ts:1"))).toEqual({
      cause: "socket hang up",
      misconfigured: false,
    });
  });
});
