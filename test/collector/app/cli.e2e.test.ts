import { readFileSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ledgerKey } from "../../../collector/src/state/ids";
import { CONTENT_TYPES } from "../../../domain/contentTypes";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import {
  type CollectorProcess,
  exitCodeOf,
  idsInFile,
  killStragglers,
  sorted,
  spawnCollector,
  until,
  workspace,
} from "./harness";

/** Ids in the SQLite ledger, as 16-byte keys in hex. */
function ledgerKeys(statePath: string): Set<string> {
  const db = new Database(statePath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT id FROM ledger").all() as { id: Buffer }[];
    return new Set(rows.map((row) => row.id.toString("hex")));
  } finally {
    db.close();
  }
}

function expectExactlyOnce(emulator: Emulator, filePath: string, statePath: string): void {
  const delivered = idsInFile(filePath);
  const expected = emulator.truth.expectedRecordIds();
  const repeated = delivered.filter((id, index) => delivered.indexOf(id) !== index);
  expect(repeated).toEqual([]);
  expect(sorted(delivered)).toEqual(sorted(expected));
  const ledger = ledgerKeys(statePath);
  expect(ledger.size).toBe(expected.size);
  for (const id of expected) expect(ledger.has(ledgerKey(id).toString("hex"))).toBe(true);
}

async function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

afterEach(killStragglers);

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

describe("collector CLI against the emulator (five content types, 30 hours)", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 7,
      // 30 hours of history: listing windows cross the 24-hour limit; duplicates on; small
      // pages so every listing follows NextPageUri.
      scenario: {
        historyHours: 30,
        blobsPerHour: 1,
        recordsPerBlob: [5, 40],
        duplicateRate: 0.05,
        lateRate: 0,
        pageSize: 7,
      },
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("run --once delivers every record of all five content types exactly once, and a second run repeats nothing", async () => {
    const ws = workspace(emulator);
    const first = spawnCollector(["run", "--once"], ws.env);
    await exitCodeOf(first, 0);
    for (const contentType of CONTENT_TYPES) {
      expect(emulator.truth.expectedRecordIds([contentType]).size).toBeGreaterThan(0);
    }
    expect(emulator.truth.expectedRecordIds().size).toBeGreaterThan(100);
    expectExactlyOnce(emulator, ws.filePath, ws.statePath);
    expect(first.logs.some((l) => l.msg === "caught up; every content type checkpointed")).toBe(
      true,
    );
    expect(JSON.stringify(first.logs)).not.toContain(emulator.tenant.clientSecret);

    const before = readFileSync(ws.filePath);
    const second = spawnCollector(["run", "--once"], ws.env);
    await exitCodeOf(second, 0);
    expect(readFileSync(ws.filePath).equals(before)).toBe(true);
  }, 90_000);

  it("run serves /healthz 200 once every content type polled, exposes the counters on /metrics, and exits 0 on SIGTERM", async () => {
    const ws = workspace(emulator);
    const collector = spawnCollector(["run"], ws.env);
    const port = await collector.port();
    // Healthy means every content type polled (or kept committing) recently; wait for the
    // whole backlog too, so the counters below are final.
    const total = emulator.truth.expectedRecordIds().size;
    const health = await until(async () => {
      if (idsInFile(ws.filePath, { live: true }).length < total) return undefined;
      const answer = await healthz(port);
      return answer.status === 200 ? answer : undefined;
    });
    expect(health.body.status).toBe("ok");
    expect(Object.keys(health.body.contentTypes as object).sort()).toEqual(
      [...CONTENT_TYPES].sort(),
    );

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const contentType of CONTENT_TYPES) {
      const delivered = emulator.truth.expectedRecordIds([contentType]).size;
      expect(metrics).toContain(
        `auditbridge_records_delivered_total{content_type="${contentType}"} ${delivered}`,
      );
      expect(metrics).toMatch(
        new RegExp(
          `auditbridge_lag_seconds\\{content_type="${contentType.replace(".", "\\.")}"\\} \\d`,
        ),
      );
    }
    expect(metrics).toMatch(/auditbridge_records_duplicate_total\{content_type="[^"]+"\} [1-9]/);
    expect(metrics).toMatch(
      /auditbridge_blobs_fetched_total\{content_type="Audit\.Exchange"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /auditbridge_token_refreshes_total\{audience="https:\/\/manage\.office\.com"\} 1\n/,
    );
    expect(metrics).toMatch(/auditbridge_api_requests_total\{[^}]*status="200"[^}]*\} [1-9]/);

    collector.child.kill("SIGTERM");
    await exitCodeOf(collector, 0);
    expect(collector.logs.some((l) => /^stopped/.test(String(l.msg)))).toBe(true);
    // stderr held JSON log lines only: no progress display when it is not a terminal.
    expect(collector.plain).toEqual([]);
    expectExactlyOnce(emulator, ws.filePath, ws.statePath);
  }, 90_000);
});

describe("collector CLI stopping mid-catch-up", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 11,
      scenario: {
        contentTypes: ["Audit.Exchange", "Audit.SharePoint"],
        historyHours: 30,
        blobsPerHour: 4,
        recordsPerBlob: [20, 60],
        duplicateRate: 0.05,
        lateRate: 0,
        pageSize: 20,
      },
      // Slow enough that the first run is still catching up when it is stopped.
      knobs: { latencyMs: 10 },
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  const env = (ws: ReturnType<typeof workspace>) => ({
    ...ws.env,
    O365_CONTENT_TYPES: "Audit.Exchange,Audit.SharePoint",
  });

  it("after SIGTERM mid-run, a restart delivers the rest and repeats nothing", async () => {
    const ws = workspace(emulator);
    const first = spawnCollector(["run", "--once"], env(ws));
    await until(async () => (fileSize(ws.filePath) > 0 ? true : undefined));
    first.child.kill("SIGTERM");
    await exitCodeOf(first, 0);
    const partial = idsInFile(ws.filePath).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(emulator.truth.expectedRecordIds().size);

    const second = spawnCollector(["run", "--once"], env(ws));
    await exitCodeOf(second, 0);
    expectExactlyOnce(emulator, ws.filePath, ws.statePath);
  }, 120_000);

  it("after kill -9 mid-run, a restart still delivers every record exactly once (file + SQLite)", async () => {
    const ws = workspace(emulator);
    const first: CollectorProcess = spawnCollector(["run", "--once"], env(ws));
    await until(async () => (fileSize(ws.filePath) > 20_000 ? true : undefined));
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    expect(idsInFile(ws.filePath, { live: true }).length).toBeLessThan(
      emulator.truth.expectedRecordIds().size,
    );

    const second = spawnCollector(["run", "--once"], env(ws));
    await exitCodeOf(second, 0);
    expectExactlyOnce(emulator, ws.filePath, ws.statePath);
  }, 120_000);
});

describe("collector CLI with tenant configuration errors", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 13,
      scenario: { historyHours: 2, blobsPerHour: 1, recordsPerBlob: [2, 5], lateRate: 0 },
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("stays up with an audit-disabled tenant and shows the cause in /healthz and the logs", async () => {
    emulator.knobs.auditDisabled = true;
    try {
      const ws = workspace(emulator);
      const collector = spawnCollector(["run"], ws.env);
      const port = await collector.port();
      const logged = await collector.waitForLog((l) => l.misconfigured === true);
      expect(String(logged.err)).toMatch(/unified audit logging is off/);
      const answer = await healthz(port);
      expect(answer.status).toBe(503);
      const contentTypes = answer.body.contentTypes as Record<
        string,
        { status: string; cause: string }
      >;
      for (const contentType of CONTENT_TYPES) {
        expect(contentTypes[contentType]).toMatchObject({
          status: "misconfigured",
          cause: expect.stringMatching(/unified audit logging is off/),
        });
      }
      // Still running well after the failure: the next attempt is minutes away.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(collector.child.exitCode).toBeNull();
      collector.child.kill("SIGTERM");
      await exitCodeOf(collector, 0);
    } finally {
      emulator.knobs.auditDisabled = false;
    }
  });

  it("run --once without the DLP permission delivers the other content types and exits 1 naming DLP.All", async () => {
    emulator.knobs.grantedRoles = ["ActivityFeed.Read", "ServiceHealth.Read"];
    try {
      const ws = workspace(emulator, { O365_CONTENT_TYPES: "Audit.Exchange,DLP.All" });
      const collector = spawnCollector(["run", "--once"], ws.env);
      await exitCodeOf(collector, 1);
      const lastLine = collector.plain.at(-1) ?? "";
      expect(lastLine).toMatch(/^auditbridge-collector: could not complete: DLP\.All: .*AF10001/);
      expect(sorted(idsInFile(ws.filePath))).toEqual(
        sorted(emulator.truth.expectedRecordIds(["Audit.Exchange"])),
      );
    } finally {
      emulator.knobs.grantedRoles = [
        "ActivityFeed.Read",
        "ActivityFeed.ReadDlp",
        "ServiceHealth.Read",
      ];
    }
  });
});

describe("collector CLI delivering to Logs Ingestion", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 17,
      scenario: {
        contentTypes: ["Audit.Exchange", "Audit.SharePoint"],
        historyHours: 4,
        blobsPerHour: 2,
        recordsPerBlob: [5, 20],
        duplicateRate: 0.1,
        lateRate: 0,
      },
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("sends every record once to the rule's stream and the file, with the managed identity for ingestion", async () => {
    const ws = workspace(emulator, {
      O365_CONTENT_TYPES: "Audit.Exchange,Audit.SharePoint",
      AUDIT_SINK: "logs-ingestion,file",
      LOGS_INGESTION_ENDPOINT: emulator.url,
      LOGS_INGESTION_RULE_ID: emulator.ingestion.ruleId,
      AUDIT_MANAGED_IDENTITY_CLIENT_ID: emulator.managedIdentity.clientId,
      IDENTITY_ENDPOINT: emulator.managedIdentity.endpoint,
      IDENTITY_HEADER: emulator.managedIdentity.identityHeader,
    });
    const before = emulator.truth.requestLog().length;
    const collector = spawnCollector(["run", "--once"], ws.env);
    await exitCodeOf(collector, 0);
    const expected = sorted(
      emulator.truth.expectedRecordIds(["Audit.Exchange", "Audit.SharePoint"]),
    );
    const rows = emulator.truth.ingestedRows();
    expect(
      rows.every((r) => r.stream === "Custom-M365Audit" && r.ruleId === emulator.ingestion.ruleId),
    ).toBe(true);
    expect(sorted(rows.map((r) => String(r.row.RecordId)))).toEqual(expected);
    expect(sorted(idsInFile(ws.filePath))).toEqual(expected);
    const msi = emulator.truth
      .requestLog()
      .slice(before)
      .filter((entry) => entry.path === "/msi/token");
    expect(msi.length).toBeGreaterThan(0);
    expect(
      msi.every(
        (entry) => new URLSearchParams(entry.query).get("resource") === "https://monitor.azure.com",
      ),
    ).toBe(true);
  }, 90_000);

  it("runs keyless: the managed identity's token is the app's client assertion, and both tokens are counted", async () => {
    const ws = workspace(emulator, {
      O365_CONTENT_TYPES: "Audit.Exchange,Audit.SharePoint",
      AUDIT_FEDERATED_IDENTITY_CLIENT_ID: emulator.managedIdentity.clientId,
      IDENTITY_ENDPOINT: emulator.managedIdentity.endpoint,
      IDENTITY_HEADER: emulator.managedIdentity.identityHeader,
    });
    delete ws.env.AZURE_CLIENT_SECRET;
    const collector = spawnCollector(["run"], ws.env);
    const port = await collector.port();
    const expected = emulator.truth.expectedRecordIds(["Audit.Exchange", "Audit.SharePoint"]);
    await until(
      async () =>
        idsInFile(ws.filePath, { live: true }).length >= expected.size ? true : undefined,
      60_000,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(
      /auditbridge_token_refreshes_total\{audience="api:\/\/AzureADTokenExchange"\} 1\n/,
    );
    expect(metrics).toMatch(
      /auditbridge_token_refreshes_total\{audience="https:\/\/manage\.office\.com"\} 1\n/,
    );
    collector.child.kill("SIGTERM");
    await exitCodeOf(collector, 0);
    expect(sorted(idsInFile(ws.filePath))).toEqual(sorted(expected));
  }, 90_000);
});
