/**
 * The chaos suite's scenarios (`npm run test:chaos`): the real collector, crashed, stopped and
 * starved on a seeded schedule, checked against the emulator's ground truth.
 *
 * How faults are made on a machine where the suite runs as root (root ignores permission bits,
 * and mounting a tiny file system needs privileges a CI container lacks):
 * - file-sink outage and read-only state: the ext4 immutable flag (`chattr +i`), which stops
 *   even root from writing, creating, renaming or truncating;
 * - disk full: RLIMIT_FSIZE lowered on the running collector (`prlimit --fsize`): every write
 *   that would grow a file fails with EFBIG, for the sink and SQLite alike — what a full disk
 *   does to the process, without filling the machine's disk;
 * - Logs Ingestion outage, 5xx, AF429 bursts, truncated bodies: the emulator's knobs.
 */

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";
import {
  DEFAULT_COMMIT_EVERY_RECORDS,
  DEFAULT_COMMIT_MAX_RECORDS,
} from "../../collector/src/pipeline/pipeline";
import { DEFAULT_API_REQUESTS_PER_MINUTE } from "../../collector/src/source/pacer";
import { Rng } from "../../emulator/src/generator/prng";
import type { Emulator } from "../../emulator/src/index";
import { drainIngestedRows } from "./benchScenarios";
import {
  type CollectorExit,
  type CollectorProcess,
  collectorEnv,
  type SinkSetup,
  spawnCollector,
} from "./collector";
import {
  createWorkspace,
  setFileSizeLimit,
  setImmutable,
  sleep,
  type Workspace,
  waitFor,
} from "./common";
import { blobsPerHourFor, SETTLED_BACKDATE_MS, startBenchEmulator } from "./emulatorSetup";
import {
  compareWithTruth,
  type DeliveryCounts,
  normaliseIds,
  readDeliveredIds,
  sinkFiles,
  type TruthComparison,
  totalBytes,
} from "./truth";

/**
 * Most records a crash may repeat with Logs Ingestion (pipeline.ts): the commit in flight (up to
 * its threshold plus one delivery round) and the acknowledged records gathered behind it (the
 * same again; the lane waits for the first commit before it goes further).
 */
export const IN_FLIGHT_BOUND_RECORDS =
  2 * (DEFAULT_COMMIT_EVERY_RECORDS + DEFAULT_COMMIT_MAX_RECORDS);

/** Sizes of one chaos run: the full suite or the short CI version. */
export interface ChaosSizes {
  /** Backlog of the crash scenarios (issue: 200,000). */
  killRecords: number;
  /** kill -9 points (issue: 20). */
  kills: number;
  /** Backlog of the fault, SIGTERM and disk scenarios. */
  faultRecords: number;
  /** Length of the sink outage (issue: 2 minutes). */
  outageMs: number;
  /** AF429 bursts during the fault scenarios. */
  af429Bursts: number;
  /** Answers per AF429 burst, [min, max]. */
  af429BurstSize: [number, number];
  /** SIGTERMs during the SIGTERM scenario. */
  sigterms: number;
  /** Longest a kill waits after deliveries resumed, in ms. */
  maxKillDelayMs: number;
}

export const FULL_SIZES: ChaosSizes = {
  killRecords: 200_000,
  kills: 20,
  faultRecords: 100_000,
  outageMs: 120_000,
  af429Bursts: 10,
  af429BurstSize: [2, 6],
  sigterms: 5,
  maxKillDelayMs: 1_500,
};

export const CI_SIZES: ChaosSizes = {
  killRecords: 25_000,
  kills: 5,
  faultRecords: 10_000,
  outageMs: 10_000,
  af429Bursts: 2,
  af429BurstSize: [1, 2],
  sigterms: 2,
  maxKillDelayMs: 400,
};

export interface ChaosOptions {
  seed: number;
  sizes: ChaosSizes;
  log: (line: string) => void;
}

/** One scenario's verdict. */
export interface ChaosResult {
  scenario: string;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  elapsedMs: number;
  passed: boolean;
  /** What happened (kills done, restarts, errors shown), for the report. */
  notes: string[];
  /** Why it failed. */
  failures: string[];
}

/** Records per blob of the chaos backlogs: mid-size blobs, so kills land inside blobs too. */
const CHAOS_RECORDS_PER_BLOB: [number, number] = [100, 600];
const CHAOS_HISTORY_HOURS = 30;
/** Longest any single collector process may run in the suite before it is called hung. */
const PROCESS_TIMEOUT_MS = 10 * 60_000;
/** Time a collector gets to report a fault it cannot get past (exit or an error line). */
const FAULT_REPORT_TIMEOUT_MS = 90_000;

function chaosScenario(records: number) {
  return {
    historyHours: CHAOS_HISTORY_HOURS,
    blobsPerHour: blobsPerHourFor(records, CHAOS_HISTORY_HOURS, 5, CHAOS_RECORDS_PER_BLOB),
    recordsPerBlob: CHAOS_RECORDS_PER_BLOB,
  };
}

/** A fresh seeded schedule per scenario, so scenarios do not shift each other's draws. */
function scheduleRng(seed: number, scenario: string): Rng {
  let h = 0;
  for (let i = 0; i < scenario.length; i++) h = Math.imul(h ^ scenario.charCodeAt(i), 0x01000193);
  return new Rng(seed, h, 0xc4a05, 7);
}

/** Runs `PRAGMA integrity_check` on the SQLite state; "ok" when the file is sound. */
export function sqliteIntegrity(file: string): string {
  const db = new Database(file, { fileMustExist: true });
  try {
    const result = db.pragma("integrity_check", { simple: true });
    return String(result);
  } finally {
    db.close();
  }
}

/** Everything a scenario needs: the emulator, a workspace and the collector's environment. */
interface Rig {
  emulator: Emulator;
  ws: Workspace;
  env: NodeJS.ProcessEnv;
  expected: Set<string>;
  sink: SinkSetup["kind"];
  /** Logs Ingestion deliveries so far (drained from the emulator as they arrive). */
  ingested: DeliveryCounts;
  /** Rows received by Logs Ingestion whose Id had arrived before. */
  repeats: number;
}

async function withRig(
  label: string,
  options: ChaosOptions,
  records: number,
  sinkKind: "file" | "logs-ingestion",
  knobs: Parameters<typeof startBenchEmulator>[0]["knobs"],
  body: (rig: Rig) => Promise<void>,
): Promise<void> {
  const { emulator } = await startBenchEmulator({
    seed: options.seed,
    scenario: chaosScenario(records),
    knobs,
    backdateMs: SETTLED_BACKDATE_MS,
  });
  const ws = createWorkspace(`chaos-${label}`);
  try {
    const sink: SinkSetup =
      sinkKind === "file" ? { kind: "file", filePath: ws.filePath } : { kind: "logs-ingestion" };
    const rig: Rig = {
      emulator,
      ws,
      env: collectorEnv({
        emulator,
        state: ws.statePath,
        sink,
        quarantineDir: ws.quarantineDir,
        // Short, so a long-running collector retries soon after a fault clears.
        pollInterval: "5s",
        logLevel: "warn",
        // The collector's own default: the faults meet the pacer as they would in production.
        apiRequestsPerMinute: DEFAULT_API_REQUESTS_PER_MINUTE,
      }),
      expected: normaliseIds(emulator.truth.expectedRecordIds()),
      sink: sink.kind,
      ingested: new Map(),
      repeats: 0,
    };
    await body(rig);
  } finally {
    ws.dispose();
    await emulator.stop();
  }
}

/** Moves rows from the emulator into the rig's counts, counting repeats. */
function collectIngested(rig: Rig): number {
  const rows = rig.emulator.truth.ingestedRows();
  let repeats = 0;
  const fresh: DeliveryCounts = new Map();
  const taken = drainIngestedRows(rows, fresh);
  for (const [id, n] of fresh) {
    const prior = rig.ingested.get(id) ?? 0;
    repeats += prior > 0 ? n : n - 1;
    rig.ingested.set(id, prior + n);
  }
  rig.repeats += repeats;
  return taken;
}

/** A number that grows whenever the collector delivers: output bytes or ingested rows. */
async function progressMark(rig: Rig): Promise<number> {
  if (rig.sink === "logs-ingestion") {
    collectIngested(rig);
    return rig.emulator.truth.counters.ingestedRows;
  }
  return totalBytes(await sinkFiles(rig.ws.filePath));
}

/** Resolves when the collector delivered something new since `mark`, or it exited. */
async function waitForDelivery(rig: Rig, proc: CollectorProcess, mark: number): Promise<boolean> {
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  await waitFor(async () => exited || (await progressMark(rig)) > mark, PROCESS_TIMEOUT_MS, 50);
  return !exited;
}

function running(proc: CollectorProcess): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}

async function finalRun(rig: Rig, result: ChaosResult): Promise<CollectorExit> {
  const proc = spawnCollector({ env: rig.env, once: true });
  const timer = setTimeout(() => proc.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (exit.code !== 0) {
    result.failures.push(
      `the final run --once exited with ${exit.code ?? exit.signal}: ${exit.stderrTail.at(-1) ?? ""}`,
    );
  }
  return exit;
}

/** Compares the delivered records with the truth and fills the result. */
async function judge(rig: Rig, result: ChaosResult, duplicatesAllowed: number): Promise<void> {
  let truth: TruthComparison;
  if (rig.sink === "logs-ingestion") {
    collectIngested(rig);
    truth = compareWithTruth(rig.expected, rig.ingested);
  } else {
    truth = compareWithTruth(
      rig.expected,
      await readDeliveredIds(await sinkFiles(rig.ws.filePath)),
    );
  }
  result.expected = truth.expected;
  result.delivered = truth.delivered;
  result.lost = truth.lost;
  result.duplicated = truth.duplicated;
  if (truth.lost > 0) {
    result.failures.push(`${truth.lost} records lost (e.g. ${truth.lostSample.join(", ")})`);
  }
  if (truth.duplicated > duplicatesAllowed) {
    result.failures.push(`${truth.duplicated} records duplicated (allowed: ${duplicatesAllowed})`);
  }
  if (truth.unexpected > 0) {
    result.failures.push(`${truth.unexpected} delivered Ids the emulator never served`);
  }
  const integrity = sqliteIntegrity(rig.ws.statePath);
  if (integrity !== "ok") result.failures.push(`SQLite integrity_check: ${integrity}`);
}

function newResult(scenario: string): ChaosResult {
  return {
    scenario,
    expected: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    elapsedMs: 0,
    passed: false,
    notes: [],
    failures: [],
  };
}

async function timed(
  scenario: string,
  body: (result: ChaosResult) => Promise<void>,
): Promise<ChaosResult> {
  const result = newResult(scenario);
  const started = performance.now();
  try {
    await body(result);
  } catch (error) {
    result.failures.push(`harness error: ${(error as Error).message.split("\n")[0]}`);
  }
  result.elapsedMs = performance.now() - started;
  result.passed = result.failures.length === 0;
  return result;
}

/**
 * kill -9 at random points of a run, restarting each time; then a clean run to the end.
 * A quarter of the kills land before the first delivery of a process (startup, listing); the
 * rest a random moment after its deliveries resumed.
 */
async function killLoop(rig: Rig, options: ChaosOptions, rng: Rng, result: ChaosResult) {
  const { kills, maxKillDelayMs } = options.sizes;
  const perKill: number[] = [];
  let done = 0;
  while (done < kills) {
    const mark = await progressMark(rig);
    const repeatsBefore = rig.repeats;
    const proc = spawnCollector({ env: rig.env, once: true });
    if (rng.chance(0.25)) {
      await Promise.race([sleep(rng.int(100, 1_200)), proc.exited]);
    } else {
      await waitForDelivery(rig, proc, mark);
      await Promise.race([sleep(rng.int(0, maxKillDelayMs)), proc.exited]);
    }
    if (!running(proc)) {
      const exit = await proc.exited;
      if (exit.code === 0) {
        result.notes.push(`the run finished after ${done} of ${kills} kills`);
        break;
      }
      result.failures.push(
        `collector exited by itself with ${exit.code ?? exit.signal}: ${exit.stderrTail.at(-1) ?? ""}`,
      );
      return;
    }
    proc.kill("SIGKILL");
    await proc.exited;
    done++;
    if (rig.sink === "logs-ingestion") {
      // Rows of the killed process that a later process repeats are counted in the next life.
      collectIngested(rig);
      perKill.push(rig.repeats - repeatsBefore);
    }
  }
  result.notes.push(`${done} × kill -9`);
  return perKill;
}

/** kill -9 × N with the file sink and SQLite state: zero lost, zero duplicated. */
export function killFileScenario(options: ChaosOptions): Promise<ChaosResult> {
  return timed("kill -9, file + SQLite", async (result) => {
    const rng = scheduleRng(options.seed, "kill-file");
    await withRig("kill-file", options, options.sizes.killRecords, "file", {}, async (rig) => {
      options.log(`kill -9 (file): ${rig.expected.size} records, ${options.sizes.kills} kills`);
      await killLoop(rig, options, rng, result);
      await finalRun(rig, result);
      await judge(rig, result, 0);
    });
  });
}

/**
 * kill -9 × N with Logs Ingestion: zero lost; repeats bounded by the records in flight at each
 * kill ({@link IN_FLIGHT_BOUND_RECORDS}), counted and reported.
 */
export function killIngestionScenario(options: ChaosOptions): Promise<ChaosResult> {
  return timed("kill -9, Logs Ingestion", async (result) => {
    const rng = scheduleRng(options.seed, "kill-ingestion");
    await withRig(
      "kill-ingestion",
      options,
      options.sizes.killRecords,
      "logs-ingestion",
      {},
      async (rig) => {
        options.log(
          `kill -9 (Logs Ingestion): ${rig.expected.size} records, ${options.sizes.kills} kills`,
        );
        const perKill = (await killLoop(rig, options, rng, result)) ?? [];
        const repeatsBeforeFinal = rig.repeats;
        await finalRun(rig, result);
        collectIngested(rig);
        // Repeats that surface in the final run belong to the last kill.
        if (perKill.length > 0) perKill[perKill.length - 1]! += rig.repeats - repeatsBeforeFinal;
        const worst = perKill.length > 0 ? Math.max(...perKill) : 0;
        result.notes.push(
          `repeats per kill: max ${worst}, total ${rig.repeats} (bound ${IN_FLIGHT_BOUND_RECORDS} per kill)`,
        );
        const over = perKill.filter((n) => n > IN_FLIGHT_BOUND_RECORDS).length;
        if (over > 0) {
          result.failures.push(
            `${over} kills repeated more than ${IN_FLIGHT_BOUND_RECORDS} records`,
          );
        }
        await judge(rig, result, Number.POSITIVE_INFINITY);
      },
    );
  });
}

/**
 * Runs `run --once` as a scheduler would (restarted after a non-zero exit, 1 s later) until one
 * run completes with the faults over. Returns the number of restarts.
 */
async function supervise(
  rig: Rig,
  faultsOver: () => boolean,
  result: ChaosResult,
): Promise<{ restarts: number; sawError: (pattern: RegExp) => boolean }> {
  const deadline = performance.now() + PROCESS_TIMEOUT_MS;
  let restarts = 0;
  const reasons = new Set<string>();
  const seen: string[] = [];
  for (;;) {
    const proc = spawnCollector({
      env: rig.env,
      once: true,
      onStderrLine: (line) => {
        if (/"level":"(warn|error|fatal)"|^auditbridge-collector:/.test(line)) seen.push(line);
      },
    });
    const exit = await proc.exited;
    if (exit.code === 0 && faultsOver()) break;
    if (exit.code !== 0) {
      const reason = (exit.stderrTail.at(-1) ?? "").slice(0, 160);
      if (reason) reasons.add(reason.replace(/\d+/g, "N"));
    }
    if (performance.now() > deadline) {
      result.failures.push("the collector did not complete within 10 minutes of restarts");
      break;
    }
    restarts++;
    await sleep(1_000);
  }
  if (reasons.size > 0) result.notes.push(`exit reasons: ${[...reasons].slice(0, 3).join(" | ")}`);
  return { restarts, sawError: (pattern) => seen.some((line) => pattern.test(line)) };
}

/**
 * 10% 5xx, truncated bodies, AF429 bursts and a sink outage during a run: zero lost, zero
 * duplicated. File sink outage: the current output file made immutable.
 */
function faultsScenario(sinkKind: "file" | "logs-ingestion") {
  return (options: ChaosOptions): Promise<ChaosResult> =>
    timed(
      `faults + sink outage, ${sinkKind === "file" ? "file + SQLite" : "Logs Ingestion"}`,
      async (result) => {
        const rng = scheduleRng(options.seed, `faults-${sinkKind}`);
        await withRig(
          `faults-${sinkKind}`,
          options,
          options.sizes.faultRecords,
          sinkKind,
          { serverErrorRate: 0.1, truncateRate: 0.1 },
          async (rig) => {
            const outageMs = options.sizes.outageMs;
            options.log(
              `faults (${sinkKind}): ${rig.expected.size} records, 10% 5xx, 10% truncated, AF429 bursts, ${outageMs / 1000} s sink outage`,
            );
            // A holder object: TypeScript would narrow a plain local and miss the async writer.
            const state = { outage: "before" as "before" | "on" | "over", flowing: false };
            // AF429 bursts of a few answers each, a few seconds apart once deliveries flow, never
            // stacked on a burst the collector has not yet run into (it is backing off).
            let bursts = 0;
            let nextBurstAt = 0;
            const burstTimer = setInterval(() => {
              if (!state.flowing || bursts >= options.sizes.af429Bursts) return;
              if (nextBurstAt === 0) nextBurstAt = performance.now() + rng.int(0, 3_000);
              if (performance.now() < nextBurstAt) return;
              if (rig.emulator.knobs.af429Burst > 0) return;
              rig.emulator.knobs.af429Burst = rng.int(...options.sizes.af429BurstSize);
              bursts++;
              nextBurstAt = performance.now() + rng.int(2_000, 8_000);
            }, 250);
            const setOutage = (on: boolean) => {
              if (sinkKind === "logs-ingestion") rig.emulator.knobs.ingestionOutage = on;
              else setImmutable([rig.ws.filePath], on);
            };
            // The outage starts once deliveries are flowing, a random moment later.
            const outageDone = (async () => {
              await waitFor(async () => (await progressMark(rig)) > 0, PROCESS_TIMEOUT_MS, 50);
              state.flowing = true;
              await sleep(rng.int(0, 1_000));
              setOutage(true);
              state.outage = "on";
              await sleep(outageMs);
              setOutage(false);
              state.outage = "over";
            })();
            let restarts = 0;
            let outageMet = false;
            try {
              const run = await supervise(rig, () => state.outage === "over", result);
              restarts = run.restarts;
              // The outage must have met deliveries, or the scenario proved nothing about it.
              outageMet =
                sinkKind === "file"
                  ? run.sawError(/EPERM/)
                  : rig.emulator.truth.counters.ingestionRejected > 0;
            } finally {
              clearInterval(burstTimer);
              await outageDone.catch(() => undefined);
              if (state.outage === "on") setOutage(false);
            }
            const counters = rig.emulator.truth.counters;
            result.notes.push(
              `${counters.injectedErrors} injected 5xx, ${counters.truncatedBlobs} truncated bodies, ${bursts} AF429 bursts (${counters.throttled} AF429), ${restarts} restarts`,
            );
            if (sinkKind === "logs-ingestion") {
              result.notes.push(
                `${counters.ingestionRejected} Logs Ingestion calls refused during the outage`,
              );
            }
            if (!outageMet)
              result.failures.push("the sink outage met no delivery; raise the record count");
            await judge(rig, result, 0);
          },
        );
      },
    );
}

export const faultsFileScenario = faultsScenario("file");
export const faultsIngestionScenario = faultsScenario("logs-ingestion");

/** SIGTERM at random points, restart each time: every stop exits 0, nothing repeated. */
export function sigtermScenario(options: ChaosOptions): Promise<ChaosResult> {
  return timed("SIGTERM + restart, file + SQLite", async (result) => {
    const rng = scheduleRng(options.seed, "sigterm");
    await withRig("sigterm", options, options.sizes.faultRecords, "file", {}, async (rig) => {
      options.log(`SIGTERM: ${rig.expected.size} records, ${options.sizes.sigterms} stops`);
      let stops = 0;
      let clean = 0;
      for (let i = 0; i < options.sizes.sigterms; i++) {
        const proc = spawnCollector({ env: rig.env, once: true });
        await waitForDelivery(rig, proc, await progressMark(rig));
        await Promise.race([sleep(rng.int(0, options.sizes.maxKillDelayMs)), proc.exited]);
        if (!running(proc)) break;
        proc.kill("SIGTERM");
        const exit = await proc.exited;
        stops++;
        if (exit.code === 0) clean++;
        else {
          result.failures.push(
            `SIGTERM ended the collector with ${exit.code ?? exit.signal}, not 0`,
          );
        }
      }
      result.notes.push(`${stops} × SIGTERM, ${clean} drained and exited 0`);
      await finalRun(rig, result);
      await judge(rig, result, 0);
    });
  });
}

/**
 * A fault the collector cannot get past (disk full, read-only state) while it runs: it must say
 * so clearly (one line), leave the SQLite state sound, and resume once the fault is fixed.
 */
function stuckFaultScenario(
  name: string,
  label: string,
  apply: (rig: Rig, proc: CollectorProcess) => Promise<void>,
  fix: (rig: Rig, proc: CollectorProcess) => Promise<void>,
) {
  return (options: ChaosOptions): Promise<ChaosResult> =>
    timed(name, async (result) => {
      await withRig(label, options, options.sizes.faultRecords, "file", {}, async (rig) => {
        options.log(`${name}: ${rig.expected.size} records`);
        const errors: string[] = [];
        const proc = spawnCollector({
          env: rig.env,
          once: true,
          onStderrLine: (line) => {
            if (/"level":"(error|fatal)"|^auditbridge-collector:/.test(line)) errors.push(line);
          },
        });
        const fixed = { done: false };
        try {
          await waitForDelivery(rig, proc, 0);
          if (!running(proc)) {
            result.failures.push(
              "the run finished before the fault could be applied; raise the record count",
            );
            return;
          }
          await apply(rig, proc);
          // Either the process ends with a one-line reason, or it stays up and logs the error.
          await waitFor(() => !running(proc) || errors.length > 0, FAULT_REPORT_TIMEOUT_MS, 100);
          await sleep(2_000);
          const shown =
            errors.find((line) => line.startsWith("auditbridge-collector:")) ?? errors[0];
          if (!shown) {
            result.failures.push(
              `no error reported within ${FAULT_REPORT_TIMEOUT_MS / 1000} s of the fault`,
            );
          } else {
            result.notes.push(`error shown: ${shown.slice(0, 200)}`);
          }
          if (running(proc)) result.notes.push("the collector stayed up while the fault lasted");
          await fix(rig, proc);
          fixed.done = true;
          const integrity = sqliteIntegrity(rig.ws.statePath);
          result.notes.push(`integrity_check after the fault: ${integrity}`);
          if (integrity !== "ok")
            result.failures.push(`SQLite integrity_check after the fault: ${integrity}`);
          if (running(proc)) {
            // Fixed under a live process: it must get going again by itself.
            const exit = await proc.exited;
            if (exit.code !== 0) {
              result.failures.push(
                `after the fix the running collector exited with ${exit.code ?? exit.signal}`,
              );
            } else {
              result.notes.push("resumed in the same process once fixed");
            }
          } else {
            await finalRun(rig, result);
            result.notes.push("resumed after a restart once fixed");
          }
        } finally {
          if (!fixed.done) await fix(rig, proc).catch(() => undefined);
          if (running(proc)) proc.kill("SIGKILL");
          await proc.exited;
        }
        await judge(rig, result, 0);
      });
    });
}

/** Disk full: every write that would grow a file fails (EFBIG via RLIMIT_FSIZE). */
export const diskFullScenario = stuckFaultScenario(
  "disk full (RLIMIT_FSIZE), file + SQLite",
  "diskfull",
  async (_rig, proc) => setFileSizeLimit(proc.pid, 1),
  async (_rig, proc) => {
    if (running(proc)) setFileSizeLimit(proc.pid, undefined);
  },
);

async function stateFiles(rig: Rig): Promise<string[]> {
  const dir = path.dirname(rig.ws.statePath);
  const names = await readdir(dir);
  return [dir, ...names.map((name) => path.join(dir, name))];
}

/** Read-only state directory: the directory and its files made immutable (chattr +i). */
export const readOnlyStateScenario = stuckFaultScenario(
  "read-only state directory (chattr +i), file + SQLite",
  "rostate",
  async (rig) => setImmutable(await stateFiles(rig), true),
  async (rig) => setImmutable(await stateFiles(rig), false),
);

/** Whether the ext4 immutable flag and prlimit work here (they need root or CAP_LINUX_IMMUTABLE). */
export function faultToolsAvailable(probeDir: string): string | undefined {
  try {
    const probe = path.join(probeDir, "probe");
    writeFileSync(probe, "x");
    setImmutable([probe], true);
    setImmutable([probe], false);
  } catch (error) {
    return `chattr +i does not work here (${(error as Error).message.split("\n")[0]}): run the chaos suite as root on ext4`;
  }
  try {
    execFileSync("prlimit", ["--version"], { stdio: "ignore" });
  } catch {
    return "prlimit (util-linux) is not installed: install util-linux";
  }
  return undefined;
}

/** The chaos scenarios in run order. */
export const CHAOS_SCENARIOS: Record<string, (options: ChaosOptions) => Promise<ChaosResult>> = {
  "kill-file": killFileScenario,
  "kill-ingestion": killIngestionScenario,
  "faults-file": faultsFileScenario,
  "faults-ingestion": faultsIngestionScenario,
  sigterm: sigtermScenario,
  "disk-full": diskFullScenario,
  "read-only-state": readOnlyStateScenario,
};
