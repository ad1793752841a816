/**
 * `npm start`: the one-command demo. Starts the emulated tenant, runs the real collector
 * against it (`run --once`, SQLite state, file sink plus Logs Ingestion into the emulated
 * workspace), runs verify, and prints what happened. `npm start -- --follow` keeps the
 * collector running on live emulated activity until Ctrl-C.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { Command } from "commander";
import { COLLECTOR_NODE_FLAGS } from "../collector/src/nodeFlags";
import { EXAMPLE_QUERY } from "../components/sentinel/catalogue";
import { DEFAULT_FUNCTION_ALIAS } from "../components/sentinel/officeActivityFunction";
import { collectorConnectionEnv, type Emulator, startEmulator } from "../emulator/src/index";
import { CommandInputError } from "./common/errors";

const REPO_ROOT = path.resolve(__dirname, "..");
const DEFAULT_DEMO_DIR = path.join(REPO_ROOT, ".auditbridge", "demo");
const TSX_CLI = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
/** How often `--follow` prints a status line. */
const FOLLOW_REPORT_INTERVAL_MS = 10_000;

interface StartOptions {
  follow: boolean;
  seed: number;
  historyHours: number;
  json: boolean;
  dir: string;
}

interface VerifyCheck {
  id: string;
  title: string;
  status: string;
  reason: string;
}

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command()
    .name("npm start --")
    .description(
      "Example: npm start -- --follow\n\nRuns AuditBridge end to end against the local emulated tenant.",
    )
    .option("--follow", "keep collecting live emulated activity until Ctrl-C", false)
    .option("--seed <n>", "emulated tenant seed", (v) => parseWholeNumber("--seed", v), 1)
    .option(
      "--history-hours <n>",
      "hours of audit history the tenant starts with (1-168)",
      (v) => parseWholeNumber("--history-hours", v),
      24,
    )
    .option("--json", "print the summary as JSON on stdout", false)
    .option("--dir <path>", "where the state and output go (emptied first)", DEFAULT_DEMO_DIR)
    .exitOverride();
  program.parse(argv, { from: "user" });
  const options = program.opts<StartOptions>();
  if (options.historyHours < 1 || options.historyHours > 168) {
    throw new UsageError("--history-hours must be between 1 and 168");
  }

  const demoDir = await prepareDemoDir(path.resolve(options.dir));
  const emulator = await startEmulator({
    seed: options.seed,
    scenario: {
      historyHours: options.historyHours,
      liveBlobsPerMinute: options.follow ? 2 : 0,
      liveHorizonMinutes: options.follow ? 24 * 60 : 60,
    },
  });
  try {
    const env = collectorEnv(emulator, demoDir);
    status(`emulated tenant ${emulator.tenant.tenantId} at ${emulator.url}`);
    if (options.follow) return await follow(emulator, env, demoDir);

    const started = Date.now();
    // What the run must deliver is what was listable when it started: blobs that become
    // listable later (the service's availability delay, late blobs) are the next run's work.
    const runStartedMs = emulator.now();
    const collector = await run(
      process.execPath,
      [...COLLECTOR_NODE_FLAGS, "--import", "tsx", "collector/src/main.ts", "run", "--once"],
      env,
    );
    const collectSeconds = (Date.now() - started) / 1000;
    if (collector.code !== 0) {
      status(`collector exited with ${collector.code}; see the log lines above`);
      return 1;
    }
    const verify = await runVerify(emulator, env);
    const auditLogging = await runAuditLoggingStatus(emulator, env);
    const summary = await summarize(emulator, demoDir, {
      collectSeconds,
      runStartedMs,
      verify,
      auditLogging,
    });
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(renderSummary(summary));
    return summary.ok ? 0 : 1;
  } finally {
    await emulator.stop();
  }
}

/** The collector's environment: the configuration contract pointed at the emulator. */
function collectorEnv(emulator: Emulator, demoDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...collectorConnectionEnv(emulator),
    AUDIT_STATE: `sqlite:${path.join(demoDir, "state.db")}`,
    // Three sinks at once: the checkpoint moves only when all three have acknowledged.
    AUDIT_SINK: "file,logs-ingestion,splunk-hec",
    SPLUNK_HEC_URL: emulator.url,
    SPLUNK_HEC_TOKEN: emulator.splunkHec.token,
    SPLUNK_HEC_ACK: "true",
    AUDIT_FILE_PATH: path.join(demoDir, "audit.ndjson"),
    AUDIT_POLL_INTERVAL: "15s",
    AUDIT_HTTP_PORT: "0",
    // The demo prints its own summary; set AUDIT_LOG_LEVEL=info to see the collector's JSON logs.
    AUDIT_LOG_LEVEL: process.env.AUDIT_LOG_LEVEL ?? "error",
  };
}

async function follow(
  emulator: Emulator,
  env: NodeJS.ProcessEnv,
  demoDir: string,
): Promise<number> {
  const child = spawn(
    process.execPath,
    [...COLLECTOR_NODE_FLAGS, "--import", "tsx", "collector/src/main.ts", "run"],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const stop = () => child.kill("SIGTERM");
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const timer = setInterval(async () => {
    const delivered = await countLines(path.join(demoDir, "audit.ndjson"));
    const expected = emulator.truth.expectedRecordIds().size;
    status(`delivered ${delivered} of ${expected} records available so far (Ctrl-C to stop)`);
  }, FOLLOW_REPORT_INTERVAL_MS);
  const code = await exitCode(child);
  clearInterval(timer);
  return code ?? 1;
}

async function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  return { code: await exitCode(child), stdout };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code));
  });
}

async function runVerify(emulator: Emulator, env: NodeJS.ProcessEnv): Promise<VerifyCheck[]> {
  const args = [
    TSX_CLI,
    "scripts/verify/main.ts",
    "--tenant-id",
    emulator.tenant.tenantId,
    "--client-id",
    emulator.tenant.clientId,
    "--workspace-id",
    emulator.ingestion.workspaceId,
    "--authority-host",
    emulator.url,
    "--management-endpoint",
    emulator.url,
    "--graph-endpoint",
    emulator.url,
    "--log-analytics-endpoint",
    emulator.url,
    "--json",
  ];
  const result = await run(process.execPath, args, env);
  try {
    const parsed = JSON.parse(result.stdout) as { checks?: VerifyCheck[] };
    return parsed.checks ?? [];
  } catch {
    return [
      { id: "verify", title: "verify", status: "fail", reason: `verify exited ${result.code}` },
    ];
  }
}

/** The tenant's audit switch as `npm run audit-logging -- status --json` reports it. */
interface AuditLoggingStatus {
  state: string;
  unifiedAuditLogIngestionEnabled?: boolean;
  message: string;
}

/** Reads the emulated tenant's unified audit log switch the way a user would. */
async function runAuditLoggingStatus(
  emulator: Emulator,
  env: NodeJS.ProcessEnv,
): Promise<AuditLoggingStatus> {
  const result = await run(
    process.execPath,
    [TSX_CLI, "scripts/audit-logging/main.ts", "status", "--json"],
    {
      ...env,
      EXCHANGE_ADMIN_ENDPOINT: emulator.url,
    },
  );
  try {
    const parsed = JSON.parse(result.stdout) as AuditLoggingStatus;
    return {
      state: parsed.state ?? "unknown",
      unifiedAuditLogIngestionEnabled: parsed.unifiedAuditLogIngestionEnabled,
      message: parsed.message,
    };
  } catch {
    return { state: "unknown", message: `audit-logging status exited ${result.code}` };
  }
}

interface Summary {
  ok: boolean;
  /** The KQL function pulumi up deploys over the audit table, and a query to paste. */
  officeActivityFunction: string;
  exampleQuery: string;
  output: string;
  collectSeconds: number;
  /** Per content type: records listable when the collector started, and how many it delivered. */
  recordsByContentType: Record<string, { expected: number; delivered: number }>;
  delivered: number;
  /** Records listable when the collector started that it did not deliver. */
  lost: number;
  /**
   * Records whose blobs became listable after the collector started (the service's availability
   * delay, late blobs): not the run's due, the next run collects them; some may be delivered.
   */
  availableAfterStart: { records: number; delivered: number };
  duplicatesInFeed: number;
  duplicatesDelivered: number;
  ingestedRows: number;
  /** Events the emulated Splunk HEC indexed, and how many distinct records they hold. */
  splunkEvents: number;
  splunkDistinctRecords: number;
  /** Rows whose AuditData exceeded the 64 KB field limit and went in shortened (the file keeps them whole). */
  oversizeRows: number;
  newestContentLagSeconds: number | null;
  verify: VerifyCheck[];
  auditLogging: AuditLoggingStatus;
}

interface RunFacts {
  collectSeconds: number;
  /** The emulator's clock when the collector started. */
  runStartedMs: number;
  verify: VerifyCheck[];
  auditLogging: AuditLoggingStatus;
}

async function summarize(emulator: Emulator, demoDir: string, run: RunFacts): Promise<Summary> {
  const { collectSeconds, runStartedMs, verify, auditLogging } = run;
  const output = path.join(demoDir, "audit.ndjson");
  const deliveredIds = new Map<string, number>();
  for await (const line of lines(output)) {
    const id = (JSON.parse(line) as { Id?: string }).Id ?? "";
    deliveredIds.set(id, (deliveredIds.get(id) ?? 0) + 1);
  }
  const recordsByContentType: Summary["recordsByContentType"] = {};
  let lost = 0;
  let occurrences = 0;
  let unique = 0;
  let newestCreatedMs = 0;
  const availableAfterStart = { records: 0, delivered: 0 };
  for (const contentType of emulator.scenario.contentTypes) {
    const due = emulator.truth.expectedRecordIds([contentType], runStartedMs);
    let delivered = 0;
    for (const id of due) if (deliveredIds.has(id)) delivered++;
    lost += due.size - delivered;
    recordsByContentType[contentType] = { expected: due.size, delivered };
    const listableNow = emulator.truth.expectedRecordIds([contentType]);
    unique += listableNow.size;
    for (const id of listableNow) {
      if (due.has(id)) continue;
      availableAfterStart.records++;
      if (deliveredIds.has(id)) availableAfterStart.delivered++;
    }
    for (const blob of emulator.truth.listedBlobs(contentType)) {
      newestCreatedMs = Math.max(newestCreatedMs, Date.parse(blob.contentCreated));
    }
  }
  for (const blob of emulator.truth.listedBlobs()) {
    if (!blob.malformed) occurrences += blob.recordCount;
  }
  let duplicatesDelivered = 0;
  for (const count of deliveredIds.values()) duplicatesDelivered += count - 1;
  const failedChecks = verify.filter((check) => check.status === "fail");
  const officeActivityFunction = DEFAULT_FUNCTION_ALIAS;
  return {
    officeActivityFunction,
    exampleQuery: EXAMPLE_QUERY,
    ok:
      lost === 0 &&
      duplicatesDelivered === 0 &&
      failedChecks.length === 0 &&
      auditLogging.state === "on",
    output,
    collectSeconds,
    recordsByContentType,
    delivered: deliveredIds.size,
    lost,
    availableAfterStart,
    duplicatesInFeed: Math.max(0, occurrences - unique),
    duplicatesDelivered,
    ingestedRows: emulator.truth.ingestedRows().length,
    splunkEvents: emulator.splunkHec.events().length,
    splunkDistinctRecords: new Set(
      emulator.splunkHec
        .events()
        .map((event) => (JSON.parse(event.eventText) as { Id?: string }).Id),
    ).size,
    oversizeRows: emulator.truth
      .ingestedRows()
      .filter(
        (r) =>
          typeof r.row.AuditData === "object" &&
          r.row.AuditData !== null &&
          "AuditBridgeTruncation" in r.row.AuditData,
      ).length,
    newestContentLagSeconds:
      newestCreatedMs > 0 ? Math.round((emulator.now() - newestCreatedMs) / 1000) : null,
    verify,
    auditLogging,
  };
}

function renderSummary(summary: Summary): string {
  const out: string[] = ["", "AuditBridge demo summary", ""];
  out.push("  content type                 expected  delivered");
  for (const [contentType, counts] of Object.entries(summary.recordsByContentType)) {
    out.push(
      `  ${contentType.padEnd(28)} ${String(counts.expected).padStart(8)}  ${String(counts.delivered).padStart(9)}`,
    );
  }
  const rate =
    summary.collectSeconds > 0 ? Math.round(summary.delivered / summary.collectSeconds) : 0;
  out.push(
    "",
    `  delivered ${summary.delivered} unique records in ${summary.collectSeconds.toFixed(1)} s (${rate} records/s)`,
    `  lost ${summary.lost}, delivered twice ${summary.duplicatesDelivered}, duplicates in the feed dropped ${summary.duplicatesInFeed}`,
    ...(summary.availableAfterStart.records > 0
      ? [
          `  ${summary.availableAfterStart.records} more records became listable after the collector started (${summary.availableAfterStart.delivered} delivered already); the next run collects the rest`,
        ]
      : []),
    `  rows in the emulated workspace: ${summary.ingestedRows} (${summary.oversizeRows} over the 64 KB field limit, shortened with markers; whole in the file)`,
    `  events in the emulated Splunk HEC (indexer acknowledgement on): ${summary.splunkEvents} (${summary.splunkDistinctRecords} distinct records)`,
    `  newest content is ${summary.newestContentLagSeconds ?? "n/a"} s old`,
    `  output: ${summary.output}`,
    `  unified audit logging: ${summary.auditLogging.state} (npm run audit-logging -- status)`,
    "",
    `  In Log Analytics (after pulumi up), the OfficeActivity-shaped function is ${summary.officeActivityFunction}; try:`,
    `    ${summary.exampleQuery}`,
    "",
    "  verify:",
  );
  for (const check of summary.verify) {
    out.push(`    ${check.status.toUpperCase().padEnd(5)} ${check.title}: ${check.reason}`);
  }
  out.push("", summary.ok ? "  result: OK" : "  result: FAILED", "");
  return `${out.join("\n")}\n`;
}

async function* lines(file: string): AsyncGenerator<string> {
  const reader = createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of reader) if (line.length > 0) yield line;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  try {
    for await (const _ of lines(file)) n++;
  } catch {
    return 0;
  }
  return n;
}

/** Marks a directory as npm start's own, so a later run may empty it. */
const DEMO_MARKER = ".auditbridge-demo";

/** Empties the demo directory, but never one that npm start did not create. */
async function prepareDemoDir(dir: string): Promise<string> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
    throw new UsageError(
      `--dir ${dir} is not empty and was not made by npm start: choose a new or empty directory`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, DEMO_MARKER), "Output of `npm start`; emptied by the next run.\n");
  return dir;
}

function status(message: string): void {
  process.stderr.write(`auditbridge: ${message}\n`);
}

/** Bad input to `npm start`: the message is printed and the exit code is 2. */
class UsageError extends CommandInputError {}

function parseWholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a whole number (got "${value}")`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("commander.")
    ) {
      if ((error as { code?: string }).code === "commander.helpDisplayed") process.exit(0);
      process.stderr.write(`auditbridge: ${message}\n`);
      process.exit(2);
    }
    process.stderr.write(`auditbridge: ${message}\n`);
    process.exit(1);
  },
);
