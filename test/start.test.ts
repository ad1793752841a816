import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(__dirname, "..");
const TSX_CLI = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");

function runStart(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, "scripts/start.ts", ...args], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm start (the one-command demo)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("collects the emulated tenant, loses and repeats nothing, passes verify and exits 0", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "auditbridge-start-"));
    dirs.push(dir);
    const result = await runStart(["--json", "--history-hours", "2", "--seed", "7", "--dir", dir]);
    // On failure, say which part failed: the summary (stdout) names the lost, the repeated and
    // every verify check.
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    // No process warnings (listener leaks, deprecations) on the demo's console.
    expect(result.stderr).not.toMatch(/Warning/);
    const summary = JSON.parse(result.stdout) as {
      ok: boolean;
      delivered: number;
      lost: number;
      availableAfterStart: { records: number; delivered: number };
      duplicatesDelivered: number;
      ingestedRows: number;
      recordsByContentType: Record<string, { expected: number; delivered: number }>;
      verify: { status: string }[];
      auditLogging: { state: string; unifiedAuditLogIngestionEnabled?: boolean };
      splunkEvents: number;
      splunkDistinctRecords: number;
      officeActivityFunction: string;
      exampleQuery: string;
    };
    expect(summary.ok).toBe(true);
    expect(summary.lost).toBe(0);
    // Blobs that became listable while the collector ran are the next run's; some may be in.
    expect(summary.availableAfterStart.delivered).toBeLessThanOrEqual(
      summary.availableAfterStart.records,
    );
    expect(summary.duplicatesDelivered).toBe(0);
    expect(Object.keys(summary.recordsByContentType)).toHaveLength(5);
    for (const counts of Object.values(summary.recordsByContentType)) {
      expect(counts.expected).toBeGreaterThan(0);
      expect(counts.delivered).toBe(counts.expected);
    }
    expect(summary.ingestedRows).toBe(summary.delivered);
    expect(summary.officeActivityFunction).toBe("M365AuditOfficeActivity");
    expect(summary.exampleQuery.startsWith("M365AuditOfficeActivity | ")).toBe(true);
    // The third sink got every record exactly once too.
    expect(summary.splunkEvents).toBe(summary.delivered);
    expect(summary.splunkDistinctRecords).toBe(summary.delivered);
    expect(summary.verify.length).toBe(8);
    expect(summary.auditLogging).toMatchObject({
      state: "on",
      unifiedAuditLogIngestionEnabled: true,
    });
    expect(summary.verify.filter((check) => check.status === "fail")).toEqual([]);
  }, 120_000);

  it("refuses to empty a directory it did not create", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "auditbridge-start-"));
    dirs.push(dir);
    await writeFile(path.join(dir, "precious.txt"), "keep me");
    const result = await runStart(["--dir", dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("not made by npm start");
    expect(await readFile(path.join(dir, "precious.txt"), "utf8")).toBe("keep me");
  }, 60_000);

  it("rejects a bad option with a one-line message and exit code 2", async () => {
    const result = await runStart(["--history-hours", "500"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("--history-hours");
  }, 60_000);
});
