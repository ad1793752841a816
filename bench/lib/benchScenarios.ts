/**
 * The benchmark's scenarios (`npm run bench`): each drives the real collector against an
 * emulator started for it, measures, and returns figures with the ratio to its floor. Nothing
 * here asserts; the figures are for people.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { DEFAULT_BLOB_CONCURRENCY } from "../../collector/src/pipeline/pipeline";
import { CONTAINER_CPU, CONTAINER_MEMORY } from "../../components/collectorContainer";
import { blobRecordIds, buildCatalogue } from "../../emulator/src/generator";
import {
  DEFAULT_TOKEN_BUCKET_CAPACITY,
  type Emulator,
  type IngestedRow,
  THROTTLE_MODELS,
  type ThrottleModel,
} from "../../emulator/src/index";
import { type BenchCgroup, createBenchCgroup, processCpuMs } from "./cgroup";
import { collectorEnv, REPO_ROOT, runCollectorOnce, spawnCollector } from "./collector";
import {
  createWorkspace,
  formatInt,
  formatMb,
  formatSeconds,
  percentile,
  sleep,
  type Workspace,
} from "./common";
import { blobsPerHourFor, SETTLED_BACKDATE_MS, startBenchEmulator } from "./emulatorSetup";
import { computeDrainFloor, measureThroughputFloor } from "./floor";
import {
  compareWithTruth,
  countDelivery,
  type DeliveryCounts,
  keepRotatedFiles,
  normaliseIds,
  readDeliveredIds,
  sinkFiles,
  type TruthComparison,
  tailRecordIds,
  totalBytes,
} from "./truth";

/** Options every benchmark scenario receives. */
/** Backlog of `throughput`, `logs-ingestion` and the per-sink scenarios without `--records`. */
export const DEFAULT_BENCH_RECORDS = 1_000_000;

export interface BenchOptions {
  /** Backlog size of the throughput and Logs Ingestion scenarios. */
  records: number;
  seed: number;
  /** Length of the live-edge (freshness) run, in minutes. */
  liveMinutes: number;
  /** The collector's request budget in the drain scenario (AUDIT_API_REQUESTS_PER_MINUTE). */
  drainBudget: number;
  /** The emulator renders blobs while serving them instead of before the collector starts. */
  renderOnDemand: boolean;
  /** Logs Ingestion: run the collector in a cgroup sized like the deployed Container App. */
  container?: boolean;
  /** Prints a progress line. */
  log: (line: string) => void;
}

/**
 * Unless `renderOnDemand`, renders the backlog's blobs before the collector starts: generating
 * records costs the emulator about as much CPU as the collector spends reading them, and on a
 * 2-core machine that would be measured as the collector's. Returns how the blobs are served.
 */
export function prepareServing(emulator: Emulator, options: BenchOptions): string {
  if (options.renderOnDemand) return "emulator rendering blobs on demand";
  const startedMs = performance.now();
  const { blobs, bytes } = emulator.prerenderBlobs();
  options.log(
    `emulator: ${formatInt(blobs)} blobs (${formatMb(bytes)}) rendered ahead in ${formatSeconds(performance.now() - startedMs)}`,
  );
  return "emulator serving pre-rendered blobs";
}

/** A number, a text, or null when it could not be measured. */
export type Figure = number | string | boolean | null;

/** One scenario's outcome. */
export interface BenchResult {
  scenario: string;
  /** What was measured, in a stable shape for bench/results/<date>.json. */
  figures: Record<string, Figure>;
  /** The figures as people read them. */
  lines: string[];
  truth?: Omit<TruthComparison, "lostSample">;
  /** Why the scenario could not run to the end, when it could not. */
  error?: string;
}

/** Issue targets, printed next to the figures. */
export const TARGETS = {
  recordsPerSecond: 30_000,
  floorShare: 0.35,
  drainRatio: 1.15,
  drainAf429Share: 0.05,
  backlogRssMb: 300,
  bigBlobRssMb: 400,
  freshnessSlackMs: 5_000,
} as const;

/** Records per blob of the backlog scenarios: realistic blobs hold hundreds to thousands. */
const BACKLOG_RECORDS_PER_BLOB: [number, number] = [500, 1500];
/** Hours of history the backlog is spread over (several 24-hour listing windows). */
const BACKLOG_HISTORY_HOURS = 48;
/** The emulator's default share of repeated records; the backlog is sized for unique records. */
const DUPLICATE_RATE = 0.02;

export function backlogScenario(records: number) {
  return {
    historyHours: BACKLOG_HISTORY_HOURS,
    blobsPerHour: blobsPerHourFor(
      records / (1 - DUPLICATE_RATE),
      BACKLOG_HISTORY_HOURS,
      5,
      BACKLOG_RECORDS_PER_BLOB,
    ),
    recordsPerBlob: BACKLOG_RECORDS_PER_BLOB,
    duplicateRate: DUPLICATE_RATE,
  };
}

export function truthLine(truth: TruthComparison): string {
  return `ground truth: ${formatInt(truth.expected)} expected, ${formatInt(truth.delivered)} delivered, ${formatInt(truth.lost)} lost, ${formatInt(truth.duplicated)} duplicated, ${formatInt(truth.unexpected)} unexpected`;
}

export function withoutSample(truth: TruthComparison): Omit<TruthComparison, "lostSample"> {
  const { lostSample: _sample, ...rest } = truth;
  return rest;
}

export function mb(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

/** The collector's `run --once` into the workspace's file sink, with SQLite state. */
function runOnceToFile(emulator: Emulator, ws: Workspace, apiRequestsPerMinute?: number) {
  return runCollectorOnce({
    env: collectorEnv({
      emulator,
      state: ws.statePath,
      sink: { kind: "file", filePath: ws.filePath },
      quarantineDir: ws.quarantineDir,
      apiRequestsPerMinute,
    }),
  });
}

export async function withWorkspace<T>(
  label: string,
  body: (ws: Workspace) => Promise<T>,
): Promise<T> {
  const ws = createWorkspace(label);
  try {
    return await body(ws);
  } finally {
    ws.dispose();
  }
}

/**
 * 1 + 3a. Throughput and memory: a backlog of `records` records across all five content types,
 * `run --once` into the file sink with SQLite state; records/s, MB/s, peak RSS, and the floor.
 */
export async function throughputScenario(options: BenchOptions): Promise<BenchResult> {
  const { emulator } = await startBenchEmulator({
    seed: options.seed,
    scenario: backlogScenario(options.records),
    backdateMs: SETTLED_BACKDATE_MS,
  });
  try {
    return await withWorkspace("bench-throughput", async (ws) => {
      const expected = normaliseIds(emulator.truth.expectedRecordIds());
      const blobs = emulator.truth.listedBlobs().length;
      options.log(
        `throughput: ${formatInt(expected.size)} unique records in ${formatInt(blobs)} blobs; collector run --once → file sink, SQLite state`,
      );
      const serving = prepareServing(emulator, options);
      const keeper = keepRotatedFiles(ws.filePath, path.join(ws.dir, "kept"));
      const exit = await runOnceToFile(emulator, ws);
      const files = await keeper.stop();
      const bytes = await totalBytes(files);
      const truth = compareWithTruth(expected, await readDeliveredIds(files));
      options.log("throughput: measuring the floor (same bytes, one parse/stringify/write loop)");
      const floor = measureThroughputFloor(files, path.join(ws.dir, "floor.ndjson"));
      const seconds = exit.elapsedMs / 1000;
      const recordsPerSecond = truth.delivered / seconds;
      const megabytesPerSecond = bytes / 1e6 / seconds;
      const share = recordsPerSecond / floor.recordsPerSecond;
      const rssMb = mb(exit.peakRssBytes);
      return {
        scenario: options.renderOnDemand ? "throughput-render-on-demand" : "throughput",
        figures: {
          records: truth.delivered,
          blobs,
          bytes,
          elapsedMs: Math.round(exit.elapsedMs),
          recordsPerSecond: Math.round(recordsPerSecond),
          megabytesPerSecond: Math.round(megabytesPerSecond * 10) / 10,
          floorRecordsPerSecond: Math.round(floor.recordsPerSecond),
          floorMegabytesPerSecond: Math.round(floor.megabytesPerSecond * 10) / 10,
          floorElapsedMs: Math.round(floor.elapsedMs),
          floorIoMs: Math.round(floor.ioMs),
          ratioToFloor: Math.round(share * 1000) / 1000,
          peakRssMb: rssMb,
          emulatorPrerendered: !options.renderOnDemand,
          targetRecordsPerSecond: TARGETS.recordsPerSecond,
          targetRatioToFloor: TARGETS.floorShare,
          targetPeakRssMb: TARGETS.backlogRssMb,
        },
        lines: [
          `end to end: ${formatInt(truth.delivered)} records, ${formatMb(bytes)} in ${formatSeconds(exit.elapsedMs)} (process start to exit; ${serving})`,
          `throughput: ${formatInt(recordsPerSecond)} records/s, ${megabytesPerSecond.toFixed(1)} MB/s (target ≥ ${formatInt(TARGETS.recordsPerSecond)} records/s)`,
          `floor: ${formatInt(floor.recordsPerSecond)} records/s, ${floor.megabytesPerSecond.toFixed(1)} MB/s (parse + stringify + write, one loop; ${formatSeconds(floor.ioMs)} of its ${formatSeconds(floor.elapsedMs)} in file reads and writes); ratio ${(share * 100).toFixed(1)}% (target ≥ ${TARGETS.floorShare * 100}%)`,
          `memory: collector peak RSS ${rssMb} MB for the backlog (target < ${TARGETS.backlogRssMb} MB)`,
          truthLine(truth),
        ],
        truth: withoutSample(truth),
      };
    });
  } finally {
    await emulator.stop();
  }
}

/** Request limit and latency of the drain scenario (issue: e.g. 6,000/min and 80 ms). */
const DRAIN_REQUESTS_PER_MINUTE = 6_000;
const DRAIN_LATENCY_MS = 80;
/**
 * The collector's AUDIT_API_REQUESTS_PER_MINUTE in the drain scenario, as an operator would set
 * it for a tenant whose quota is 6,000 a minute: a margin under the limit, as the default 1,800
 * keeps under the documented 2,000.
 */
export const DEFAULT_DRAIN_BUDGET = 5_700;

/** What one drain run under one throttling model measured. */
interface DrainRun {
  model: ThrottleModel;
  elapsedMs: number;
  startupMs: number;
  requestSpanMs: number;
  exitAfterLastRequestMs: number;
  ratio: number;
  apiRequests: number;
  af429: number;
  af429Share: number;
  serverErrors: number;
  peakRssMb: number;
  truth: TruthComparison;
  blobs: number;
  floor: ReturnType<typeof computeDrainFloor>;
}

/** One drain of the 7-day backlog with the emulator counting requests as `model` does. */
async function drainUnder(model: ThrottleModel, options: BenchOptions): Promise<DrainRun> {
  // 164 h of history planned 3 h back: 7 days minus the collector's 10-minute safety margin.
  const { emulator } = await startBenchEmulator({
    seed: options.seed,
    scenario: { historyHours: 164, blobsPerHour: 4, recordsPerBlob: [5, 40] },
    knobs: {
      throttle: { requestsPerMinute: DRAIN_REQUESTS_PER_MINUTE, model },
      latencyMs: DRAIN_LATENCY_MS,
    },
    backdateMs: SETTLED_BACKDATE_MS,
  });
  try {
    return await withWorkspace(`bench-drain-${model}`, async (ws) => {
      const expected = normaliseIds(emulator.truth.expectedRecordIds());
      const listed = emulator.truth.listedBlobs();
      const floor = computeDrainFloor(
        listed,
        emulator.scenario.pageSize,
        DRAIN_REQUESTS_PER_MINUTE,
      );
      options.log(
        `drain (${model}): ${formatInt(listed.length)} blobs over 7 days, limit ${formatInt(DRAIN_REQUESTS_PER_MINUTE)} requests/min, collector budget ${formatInt(options.drainBudget)}/min, ${DRAIN_LATENCY_MS} ms latency`,
      );
      const spawnedAtMs = Date.now();
      const exit = await runOnceToFile(emulator, ws, options.drainBudget);
      const exitedAtMs = Date.now();
      const truth = compareWithTruth(
        expected,
        await readDeliveredIds(await sinkFiles(ws.filePath)),
      );
      const api = emulator.truth.requestLog().filter((entry) => entry.path.startsWith("/api/"));
      const af429 = api.filter((entry) => entry.code === "AF429").length;
      const arrivals = api.map((entry) => entry.atMs);
      return {
        model,
        // Process start to the first API request, and the API's requests from first to last.
        startupMs: arrivals.length > 0 ? Math.min(...arrivals) - spawnedAtMs : Number.NaN,
        requestSpanMs:
          arrivals.length > 0 ? Math.max(...arrivals) - Math.min(...arrivals) : Number.NaN,
        exitAfterLastRequestMs:
          arrivals.length > 0 ? exitedAtMs - Math.max(...arrivals) : Number.NaN,
        elapsedMs: exit.elapsedMs,
        ratio: exit.elapsedMs / floor.floorMs,
        apiRequests: api.length,
        af429,
        af429Share: api.length > 0 ? af429 / api.length : 0,
        serverErrors: api.filter((entry) => entry.status >= 500).length,
        peakRssMb: mb(exit.peakRssBytes),
        truth,
        blobs: listed.length,
        floor,
      };
    });
  } finally {
    await emulator.stop();
  }
}

/**
 * 2. Backlog drain under the API's rate limit: a 7-day backlog of a few thousand small blobs,
 * the emulator limiting each PublisherIdentifier to 6,000 requests/min with 80 ms latency per
 * request, once per throttling model (Microsoft does not document how it counts: per calendar
 * minute, or a small token bucket). The collector's budget is a margin under the limit.
 */
export async function drainScenario(options: BenchOptions): Promise<BenchResult> {
  const runs: DrainRun[] = [];
  for (const model of THROTTLE_MODELS) runs.push(await drainUnder(model, options));
  const first = runs[0]!;
  const figures: Record<string, Figure> = {
    blobs: first.blobs,
    minimumRequests: first.floor.requests,
    floorMs: Math.round(first.floor.floorMs),
    requestsPerMinute: DRAIN_REQUESTS_PER_MINUTE,
    collectorRequestsPerMinute: options.drainBudget,
    latencyMs: DRAIN_LATENCY_MS,
    tokenBucketCapacity: DEFAULT_TOKEN_BUCKET_CAPACITY,
    blobConcurrency: DEFAULT_BLOB_CONCURRENCY,
    // Both runs, for the summary table's time column.
    elapsedMs: Math.round(runs.reduce((sum, run) => sum + run.elapsedMs, 0)),
    targetRatioToFloor: TARGETS.drainRatio,
    targetAf429Share: TARGETS.drainAf429Share,
  };
  const lines: string[] = [
    `floor ${formatSeconds(first.floor.floorMs)} = ${formatInt(first.floor.requests)} requests (${formatInt(first.floor.blobs)} blobs + ${first.floor.listPages} list pages + ${first.floor.subscriptionCalls} subscription starts) / ${formatInt(DRAIN_REQUESTS_PER_MINUTE)} per min; collector budget ${formatInt(options.drainBudget)}/min, ${DEFAULT_BLOB_CONCURRENCY} blobs at once`,
  ];
  for (const run of runs) {
    const prefix = run.model;
    figures[`${prefix}.elapsedMs`] = Math.round(run.elapsedMs);
    figures[`${prefix}.ratioToFloor`] = Math.round(run.ratio * 100) / 100;
    figures[`${prefix}.startupMs`] = Math.round(run.startupMs);
    figures[`${prefix}.requestSpanMs`] = Math.round(run.requestSpanMs);
    figures[`${prefix}.exitAfterLastRequestMs`] = Math.round(run.exitAfterLastRequestMs);
    figures[`${prefix}.apiRequests`] = run.apiRequests;
    figures[`${prefix}.af429Answers`] = run.af429;
    figures[`${prefix}.af429Share`] = Math.round(run.af429Share * 10_000) / 10_000;
    figures[`${prefix}.serverErrors`] = run.serverErrors;
    figures[`${prefix}.peakRssMb`] = run.peakRssMb;
    figures[`${prefix}.lost`] = run.truth.lost;
    figures[`${prefix}.duplicated`] = run.truth.duplicated;
    lines.push(
      `${run.model}: drain ${formatSeconds(run.elapsedMs)}, ${run.ratio.toFixed(2)}× the floor (target ≤ ${TARGETS.drainRatio}×); ${formatInt(run.apiRequests)} API requests, ${run.af429} AF429 = ${(run.af429Share * 100).toFixed(2)}% of calls (target ≤ ${TARGETS.drainAf429Share * 100}%), 5xx: ${run.serverErrors}`,
      `${run.model}: process start → first request ${formatSeconds(run.startupMs)}, first → last request ${formatSeconds(run.requestSpanMs)} (${formatInt((run.apiRequests / run.requestSpanMs) * 60_000)}/min), last request → exit ${formatSeconds(run.exitAfterLastRequestMs)}`,
      `${run.model}: ${truthLine(run.truth)}`,
    );
  }
  const truth = runs.reduce(
    (sum, run) => ({
      expected: sum.expected + run.truth.expected,
      delivered: sum.delivered + run.truth.delivered,
      lost: sum.lost + run.truth.lost,
      duplicated: sum.duplicated + run.truth.duplicated,
      unexpected: sum.unexpected + run.truth.unexpected,
    }),
    { expected: 0, delivered: 0, lost: 0, duplicated: 0, unexpected: 0 },
  );
  // A non-default budget is kept apart in the results file, like --render-on-demand.
  const scenario =
    options.drainBudget === DEFAULT_DRAIN_BUDGET ? "drain" : `drain-budget-${options.drainBudget}`;
  return { scenario, figures, lines, truth };
}

/** Size of the single big blob (issue: 100 MB). */
const BIG_BLOB_BYTES = 100 * 1024 * 1024;

/** 3b. Memory for a single 100 MB blob. */
export async function bigBlobScenario(options: BenchOptions): Promise<BenchResult> {
  const { emulator } = await startBenchEmulator({
    seed: options.seed,
    scenario: {
      contentTypes: ["Audit.SharePoint"],
      historyHours: 1,
      blobsPerHour: 1,
      recordsPerBlob: [10, 20],
      bigBlobBytes: BIG_BLOB_BYTES,
    },
    backdateMs: SETTLED_BACKDATE_MS,
  });
  try {
    return await withWorkspace("bench-bigblob", async (ws) => {
      const expected = normaliseIds(emulator.truth.expectedRecordIds());
      options.log(
        `memory: one ${formatMb(BIG_BLOB_BYTES)} blob (${formatInt(expected.size)} records in all)`,
      );
      const exit = await runOnceToFile(emulator, ws);
      const truth = compareWithTruth(
        expected,
        await readDeliveredIds(await sinkFiles(ws.filePath)),
      );
      const rssMb = mb(exit.peakRssBytes);
      return {
        scenario: "memory",
        figures: {
          blobBytes: BIG_BLOB_BYTES,
          blobBytesServed: emulator.truth.counters.blobBytesServed,
          records: truth.delivered,
          elapsedMs: Math.round(exit.elapsedMs),
          peakRssMb: rssMb,
          targetPeakRssMb: TARGETS.bigBlobRssMb,
        },
        lines: [
          `memory: collector peak RSS ${rssMb} MB for one ${formatMb(BIG_BLOB_BYTES)} blob (target < ${TARGETS.bigBlobRssMb} MB), ${formatSeconds(exit.elapsedMs)}`,
          truthLine(truth),
        ],
        truth: withoutSample(truth),
      };
    });
  } finally {
    await emulator.stop();
  }
}

/** Poll interval at the live edge (issue: 60 s). */
const FRESHNESS_POLL_MS = 60_000;

/**
 * 4. Freshness at the live edge: the long-running collector polls every 60 s while the emulator
 * publishes new blobs; for each blob, the delay from becoming available to its last record
 * appearing in the output file (followed every 200 ms).
 */
export async function freshnessScenario(options: BenchOptions): Promise<BenchResult> {
  const runMs = options.liveMinutes * 60_000;
  const scenario = {
    historyHours: 0.5,
    blobsPerHour: 4,
    recordsPerBlob: [20, 200] as [number, number],
    liveBlobsPerMinute: 2,
    liveHorizonMinutes: options.liveMinutes + 5,
  };
  const { emulator, startMs } = await startBenchEmulator({
    seed: options.seed,
    scenario,
    backdateMs: 0,
  });
  try {
    return await withWorkspace("bench-freshness", async (ws) => {
      // The emulator's catalogue is deterministic from (scenario, seed, start): rebuilt here to
      // learn which blob each record Id first appears in.
      const { pageSize: _pageSize, ...generatorScenario } = emulator.scenario;
      const catalogue = buildCatalogue(generatorScenario, emulator.seed, startMs);
      const blobOf = new Map<string, string>();
      const idsOf = new Map<string, Set<string>>();
      const plans = [...catalogue.blobs].sort((a, b) => a.availableAtMs - b.availableAtMs);
      for (const plan of plans) {
        for (const raw of blobRecordIds(plan)) {
          const id = raw.toLowerCase();
          if (blobOf.has(id)) continue;
          blobOf.set(id, plan.contentId);
          let set = idsOf.get(plan.contentId);
          if (!set) {
            set = new Set();
            idsOf.set(plan.contentId, set);
          }
          set.add(id);
        }
      }
      const seen = new Map<string, number>();
      const tail = tailRecordIds(ws.filePath, (id, at) => {
        if (!seen.has(id)) seen.set(id, at);
      });
      options.log(
        `freshness: long-running collector, poll interval ${FRESHNESS_POLL_MS / 1000} s, ${scenario.liveBlobsPerMinute} new blob/min per content type, ${options.liveMinutes} min`,
      );
      const spawnedAt = Date.now();
      const proc = spawnCollector({
        once: false,
        env: collectorEnv({
          emulator,
          state: ws.statePath,
          sink: { kind: "file", filePath: ws.filePath },
          quarantineDir: ws.quarantineDir,
          pollInterval: `${FRESHNESS_POLL_MS / 1000}s`,
          initialLookback: "2h",
        }),
      });
      await Promise.race([sleep(runMs), proc.exited]);
      proc.kill("SIGTERM");
      const exit = await proc.exited;
      await tail.stop();
      const endedAt = Date.now();

      // Measured: live blobs that became available after the first poll could have started and
      // early enough that one full poll interval (plus slack) passed before the end.
      const measured = plans.filter(
        (plan) =>
          plan.live &&
          plan.availableAtMs >= spawnedAt + 10_000 &&
          plan.availableAtMs <= endedAt - FRESHNESS_POLL_MS - TARGETS.freshnessSlackMs - 5_000,
      );
      const delays: number[] = [];
      let undelivered = 0;
      for (const plan of measured) {
        const ids = idsOf.get(plan.contentId);
        if (!ids || ids.size === 0) continue;
        let last = 0;
        let complete = true;
        for (const id of ids) {
          const at = seen.get(id);
          if (at === undefined) {
            complete = false;
            break;
          }
          last = Math.max(last, at);
        }
        if (complete) delays.push(Math.max(0, last - plan.availableAtMs));
        else undelivered++;
      }
      const p50 = percentile(delays, 50);
      const p99 = percentile(delays, 99);
      const max = delays.length > 0 ? Math.max(...delays) : Number.NaN;
      const target = FRESHNESS_POLL_MS + TARGETS.freshnessSlackMs;
      return {
        scenario: "freshness",
        figures: {
          pollIntervalMs: FRESHNESS_POLL_MS,
          runMs: Math.round(endedAt - spawnedAt),
          blobsMeasured: delays.length,
          blobsUndelivered: undelivered,
          p50DelayMs: Number.isNaN(p50) ? null : Math.round(p50),
          p99DelayMs: Number.isNaN(p99) ? null : Math.round(p99),
          maxDelayMs: Number.isNaN(max) ? null : Math.round(max),
          targetP99DelayMs: target,
          collectorExit: exit.code ?? exit.signal,
          peakRssMb: mb(exit.peakRssBytes),
        },
        lines: [
          `freshness: ${delays.length} live blobs measured over ${formatSeconds(endedAt - spawnedAt)}, ${undelivered} not delivered by the end`,
          `delay available → delivered: p50 ${formatSeconds(p50)}, p99 ${formatSeconds(p99)}, max ${formatSeconds(max)} (target p99 < ${formatSeconds(target)} = poll interval + 5 s)`,
          `collector after SIGTERM: exit ${exit.code ?? exit.signal}, peak RSS ${mb(exit.peakRssBytes)} MB`,
        ],
      };
    });
  } finally {
    await emulator.stop();
  }
}

/**
 * Moves rows the emulator's Logs Ingestion endpoint received into delivery counts, emptying the
 * emulator's list: it keeps every parsed row, gigabytes for a million records.
 */
export function drainIngestedRows(rows: readonly IngestedRow[], counts: DeliveryCounts): number {
  const taken = (rows as IngestedRow[]).splice(0);
  for (const entry of taken) {
    const id = entry.row.RecordId;
    if (typeof id === "string") countDelivery(counts, id.toLowerCase());
  }
  return taken.length;
}

/** Bytes of a Kubernetes-style quantity such as "0.5Gi" (the Container App's memory). */
function quantityBytes(quantity: string): number {
  const match = /^([\d.]+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity "${quantity}"`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[match[2] as "Ki" | "Mi" | "Gi"];
  return Math.round(Number(match[1]) * unit);
}

/**
 * Compiles the collector as the image's build stage does (collector/Dockerfile), into a git-ignored
 * folder inside the repository so that its imports resolve from the repository's node_modules.
 * Returns the folder.
 */
function compileCollector(): string {
  const outDir = path.join(REPO_ROOT, ".auditbridge", "bench-build");
  execFileSync(
    process.execPath,
    [
      path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"),
      "-p",
      "collector/tsconfig.build.json",
      "--outDir",
      outDir,
    ],
    { cwd: REPO_ROOT, stdio: "inherit" },
  );
  return outDir;
}

/**
 * 5. The same backlog into the emulator's Logs Ingestion endpoint: the path that runs in Azure.
 * The emulator runs in this process, so this process's CPU time is the emulator's (serving
 * blobs, gunzipping and checking every request, counting the rows); the collector's is read
 * from /proc. The collector runs compiled, as in the image. With `container`, it also runs in a
 * cgroup of the Container App's size (0.25 vCPU, 0.5 GiB), with the node flags its compiled
 * nodeFlags.js prints inside that cgroup (the image's CMD).
 */
export async function logsIngestionScenario(options: BenchOptions): Promise<BenchResult> {
  // Both sizes the targets name are kept: a run of another size than the default outside the
  // container is `logs-ingestion-<records>` (the container is measured at 200,000 only).
  const size =
    options.container || options.records === DEFAULT_BENCH_RECORDS ? "" : `-${options.records}`;
  const scenario = `logs-ingestion${size}${options.container ? "-container" : ""}${options.renderOnDemand ? "-render-on-demand" : ""}`;
  let cgroup: BenchCgroup | undefined;
  const limits = { cpus: CONTAINER_CPU, memoryBytes: quantityBytes(CONTAINER_MEMORY) };
  if (options.container) {
    const made = createBenchCgroup(`auditbridge-bench-${process.pid}`, limits);
    if (typeof made === "string") {
      return {
        scenario,
        figures: {},
        lines: [`container mode unavailable: ${made}`],
        error: `container mode unavailable: ${made}`,
      };
    }
    cgroup = made;
  }
  const { emulator } = await startBenchEmulator({
    seed: options.seed,
    scenario: backlogScenario(options.records),
    backdateMs: SETTLED_BACKDATE_MS,
  });
  try {
    return await withWorkspace("bench-ingestion", async (ws) => {
      const expected = normaliseIds(emulator.truth.expectedRecordIds());
      options.log(
        `logs-ingestion: ${formatInt(expected.size)} unique records; collector run --once → Logs Ingestion API (emulated)${cgroup ? `, collector in a ${cgroup.kind} cgroup of ${CONTAINER_CPU} vCPU / ${CONTAINER_MEMORY}` : ""}`,
      );
      // The image runs compiled JavaScript: so does this scenario (tsx would add its loader to
      // every thread's memory).
      const build = compileCollector();
      const compiledMain = path.join(build, "collector", "src", "main.js");
      let nodeFlags: string[] = [];
      if (cgroup) {
        const printed = execFileSync(cgroup.launcher[0]!, [
          ...cgroup.launcher.slice(1),
          process.execPath,
          path.join(build, "collector", "src", "nodeFlags.js"),
        ]);
        nodeFlags = printed.toString("utf8").trim().split(/\s+/);
        options.log(`node flags printed inside the cgroup: ${nodeFlags.join(" ")}`);
      }
      const serving = prepareServing(emulator, options);
      const counts: DeliveryCounts = new Map();
      const drainer = setInterval(
        () => drainIngestedRows(emulator.truth.ingestedRows(), counts),
        500,
      );
      const cpuBefore = process.cpuUsage();
      let collectorCpuMs = 0;
      let exit: Awaited<ReturnType<typeof runCollectorOnce>>;
      try {
        const proc = spawnCollector({
          env: collectorEnv({
            emulator,
            state: ws.statePath,
            sink: { kind: "logs-ingestion" },
            quarantineDir: ws.quarantineDir,
          }),
          once: true,
          compiledMain,
          ...(cgroup ? { launcher: cgroup.launcher, nodeFlags } : {}),
        });
        const cpuSampler = setInterval(() => {
          collectorCpuMs = processCpuMs(proc.pid) ?? collectorCpuMs;
        }, 100);
        try {
          exit = await proc.exited;
        } finally {
          clearInterval(cpuSampler);
        }
        if (exit.code !== 0) {
          throw new Error(
            `collector run --once exited with ${exit.code ?? exit.signal}:\n${exit.stderrTail.slice(-8).join("\n")}`,
          );
        }
      } finally {
        clearInterval(drainer);
        drainIngestedRows(emulator.truth.ingestedRows(), counts);
      }
      const emulatorCpu = process.cpuUsage(cpuBefore);
      const emulatorCpuMs = (emulatorCpu.user + emulatorCpu.system) / 1000;
      const truth = compareWithTruth(expected, counts);
      const requests = emulator.truth
        .requestLog()
        .filter((entry) => entry.path.startsWith("/dataCollectionRules/"));
      const accepted = requests.filter((entry) => entry.status === 204).length;
      const rejected = requests.length - accepted;
      const seconds = exit.elapsedMs / 1000;
      const recordsPerSecond = truth.delivered / seconds;
      const rowsPerRequest = accepted > 0 ? truth.delivered / accepted : 0;
      const usage = cgroup?.usage();
      const share = (ms: number) => `${Math.round((ms / exit.elapsedMs) * 100)}% of a core`;
      return {
        scenario,
        figures: {
          records: truth.delivered,
          elapsedMs: Math.round(exit.elapsedMs),
          recordsPerSecond: Math.round(recordsPerSecond),
          ingestionRequests: requests.length,
          acceptedRequests: accepted,
          rejectedRequests: rejected,
          rowsPerRequest: Math.round(rowsPerRequest),
          peakRssMb: mb(exit.peakRssBytes),
          collectorCpuMs: Math.round(collectorCpuMs),
          emulatorCpuMs: Math.round(emulatorCpuMs),
          targetPeakRssMb: 256,
          targetRecordsPerSecond: 15_000,
          emulatorPrerendered: !options.renderOnDemand,
          collectorCompiled: true,
          ...(cgroup
            ? {
                cgroup: cgroup.kind,
                nodeFlags: nodeFlags.join(" "),
                containerCpus: limits.cpus,
                containerMemoryMb: mb(limits.memoryBytes),
                cgroupThrottledMs:
                  usage?.throttledMs == null ? null : Math.round(usage.throttledMs),
                cgroupMemoryPeakMb:
                  usage?.memoryPeakBytes == null ? null : mb(usage.memoryPeakBytes),
              }
            : {}),
        },
        lines: [
          `logs-ingestion: ${formatInt(truth.delivered)} records in ${formatSeconds(exit.elapsedMs)} = ${formatInt(recordsPerSecond)} records/s (${serving}; target ≥ 15,000)`,
          `requests: ${formatInt(requests.length)} (${formatInt(accepted)} accepted, ${rejected} rejected), ${formatInt(rowsPerRequest)} rows per request (1 MB limit per call)`,
          `collector peak RSS ${mb(exit.peakRssBytes)} MB (target < 256 MB)`,
          `CPU time: collector ${formatSeconds(collectorCpuMs)} (${share(collectorCpuMs)}), emulator ${formatSeconds(emulatorCpuMs)} (${share(emulatorCpuMs)})`,
          ...(cgroup
            ? [
                `${cgroup.kind} cgroup ${limits.cpus} vCPU / ${mb(limits.memoryBytes)} MB: throttled ${usage?.throttledMs == null ? "n/a" : formatSeconds(usage.throttledMs)}, memory peak ${usage?.memoryPeakBytes == null ? "n/a" : `${mb(usage.memoryPeakBytes)} MB`} (page cache included)`,
              ]
            : []),
          truthLine(truth),
        ],
        truth: withoutSample(truth),
      };
    });
  } finally {
    await emulator.stop();
    cgroup?.remove();
  }
}

/** The scenarios in run order, by name. */
export const BENCH_SCENARIOS: Record<string, (options: BenchOptions) => Promise<BenchResult>> = {
  throughput: throughputScenario,
  drain: drainScenario,
  memory: bigBlobScenario,
  freshness: freshnessScenario,
  "logs-ingestion": logsIngestionScenario,
};
