/**
 * Late-listed blobs end to end: the real CLI (`run --once`, twice) against the emulator, whose
 * clock the test moves forward between the runs so that blobs which were not listable during the
 * first run become listable before the second. With the default re-list overlap (3 h) every
 * record arrives exactly once; with a 1-minute overlap the late blobs are lost, which shows the
 * first assertion can fail.
 *
 * The collector runs on the real clock. The emulator's clock is a value the test sets: frozen at
 * the real time of its start during the first run (so what was listable then is known exactly),
 * then 3 hours later for the second. The emulator plans its history up to its start, so the late
 * blobs created in the 2.5 hours before it are not yet listable during the first run; 3 hours
 * later every one of them is, while the collector's windows (from its own clock) still cover
 * their `contentCreated`. Every window stays well inside the 7-day rule.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type BlobTruth, type Emulator, startEmulator } from "../../../emulator/src/index";
import {
  exitCodeOf,
  idsInFile,
  killStragglers,
  sorted,
  spawnCollector,
  workspace,
} from "./harness";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** Past the latest availability the emulator plans for a late blob (150 min after creation). */
const CLOCK_JUMP_MS = 3 * HOUR_MS;

afterEach(killStragglers);

interface LateRun {
  emulator: Emulator;
  /** Ids in the NDJSON file after the first run. */
  firstIds: string[];
  /** Ids in the NDJSON file after the second run (the whole file). */
  finalIds: string[];
  /** What a correct collector delivers at the time of the first run. */
  expectedAtFirst: Set<string>;
  /** What a correct collector delivers once every blob is listable. */
  expectedAtEnd: Set<string>;
  /** Blobs that became listable between the two runs. */
  listedBetween: BlobTruth[];
  /** Real clock when the first run started. */
  firstRunStartMs: number;
}

/** Starts an emulator, runs `run --once`, moves the emulator's clock, runs `run --once` again. */
async function runAcrossTheClockJump(extraEnv: Record<string, string>): Promise<LateRun> {
  let emulatorNowMs = Date.now();
  const emulator = await startEmulator({
    seed: 42,
    nowMs: () => emulatorNowMs,
    scenario: {
      contentTypes: ["Audit.Exchange"],
      // 3 hours at 20 blobs an hour, 40% late: dozens of late blobs, most of them created in the
      // 2.5 hours before start and so still unlisted when the first run lists.
      historyHours: 3,
      blobsPerHour: 20,
      recordsPerBlob: [2, 8],
      duplicateRate: 0.02,
      lateRate: 0.4,
      pageSize: 10,
    },
  });
  try {
    const ws = workspace(emulator, {
      O365_CONTENT_TYPES: "Audit.Exchange",
      AUDIT_INITIAL_LOOKBACK: "4h",
      ...extraEnv,
    });

    const firstRunStartMs = Date.now();
    await exitCodeOf(spawnCollector(["run", "--once"], ws.env), 0);
    const listedAtFirst = new Set(emulator.truth.listedBlobs().map((blob) => blob.contentId));
    const expectedAtFirst = emulator.truth.expectedRecordIds();
    const firstIds = idsInFile(ws.filePath);

    emulatorNowMs += CLOCK_JUMP_MS;
    const listedBetween = emulator.truth
      .listedBlobs()
      .filter((blob) => !listedAtFirst.has(blob.contentId));
    const expectedAtEnd = emulator.truth.expectedRecordIds();

    await exitCodeOf(spawnCollector(["run", "--once"], ws.env), 0);
    return {
      emulator,
      firstIds,
      finalIds: idsInFile(ws.filePath),
      expectedAtFirst,
      expectedAtEnd,
      listedBetween,
      firstRunStartMs,
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}

/** Repeated ids, in file order. */
function repeats(ids: string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    if (seen.has(id)) return true;
    seen.add(id);
    return false;
  });
}

describe("late-listed blobs across two run --once (emulator clock moved between them)", () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it("with the default 3-hour overlap, the second run delivers the blobs listed late, and every record arrives exactly once", async () => {
    const run = await runAcrossTheClockJump({});
    emulator = run.emulator;

    // The scenario really has blobs the first run could not see, created before the first run
    // started (so its cursor went past them) and listed late rather than merely recent.
    const lateBehindCursor = run.listedBetween.filter(
      (blob) => blob.late && Date.parse(blob.contentCreated) < run.firstRunStartMs - MINUTE_MS,
    );
    expect(lateBehindCursor.length).toBeGreaterThan(0);
    expect(run.expectedAtEnd.size).toBeGreaterThan(run.expectedAtFirst.size);

    // First run: exactly what was listable then.
    expect(repeats(run.firstIds)).toEqual([]);
    expect(sorted(run.firstIds)).toEqual(sorted(run.expectedAtFirst));

    // Second run: everything, each record once.
    expect(repeats(run.finalIds)).toEqual([]);
    expect(sorted(run.finalIds)).toEqual(sorted(run.expectedAtEnd));
  }, 90_000);

  it("with AUDIT_RELIST_OVERLAP=1m, the same scenario loses the blobs listed late", async () => {
    const run = await runAcrossTheClockJump({ AUDIT_RELIST_OVERLAP: "1m" });
    emulator = run.emulator;

    expect(
      run.listedBetween.some(
        (blob) => blob.late && Date.parse(blob.contentCreated) < run.firstRunStartMs - MINUTE_MS,
      ),
    ).toBe(true);
    expect(sorted(run.firstIds)).toEqual(sorted(run.expectedAtFirst));

    const delivered = new Set(run.finalIds);
    const lost = [...run.expectedAtEnd].filter((id) => !delivered.has(id));
    expect(lost.length).toBeGreaterThan(0);
    // Lost, not wrong: nothing repeated, nothing delivered that the emulator does not list.
    expect(repeats(run.finalIds)).toEqual([]);
    expect(run.finalIds.filter((id) => !run.expectedAtEnd.has(id))).toEqual([]);
  }, 90_000);
});
