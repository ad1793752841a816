/**
 * Starts the emulator for a benchmark or chaos scenario, in this process.
 */
import {
  type Emulator,
  type Knobs,
  type ScenarioOptions,
  startEmulator,
} from "../../emulator/src/index";

/** Hours the latest "late" blob may trail its contentCreated in the emulator's catalogue, plus room. */
export const SETTLED_BACKDATE_MS = 3 * 3_600_000;

export interface BenchEmulatorOptions {
  seed: number;
  scenario: Partial<ScenarioOptions>;
  knobs?: Partial<Knobs>;
  /**
   * Plan the tenant's history as if the emulator had started this long ago, so every history
   * blob (late ones included) is already listable when the collector starts and the ground truth
   * does not move during the run. 0 = history ends now (live-edge scenarios).
   */
  backdateMs: number;
}

/** A started emulator and the instant its catalogue was planned from (epoch ms). */
export interface BenchEmulator {
  emulator: Emulator;
  startMs: number;
}

/**
 * Starts the emulator. The catalogue is planned from the clock's first reading, so the first
 * reading is moved back by `backdateMs`; every later reading is the real time, which the
 * collector shares.
 */
export async function startBenchEmulator(options: BenchEmulatorOptions): Promise<BenchEmulator> {
  let startMs: number | undefined;
  const emulator = await startEmulator({
    seed: options.seed,
    scenario: options.scenario,
    knobs: options.knobs,
    nowMs: () => {
      if (startMs === undefined) {
        startMs = Date.now() - options.backdateMs;
        return startMs;
      }
      return Date.now();
    },
  });
  if (startMs === undefined) throw new Error("the emulator never read its clock");
  if (options.backdateMs > 0 && !(options.scenario.liveBlobsPerMinute ?? 0)) {
    // The harness relies on a settled history (every planned blob listable from the start);
    // say so loudly if the emulator's timing changes.
    const s = emulator.scenario;
    const planned =
      Math.round(s.historyHours * s.blobsPerHour) * s.contentTypes.length +
      (s.bigBlobBytes > 0 ? 1 : 0);
    const listed = emulator.truth.listedBlobs().length;
    if (listed < planned) {
      await emulator.stop();
      throw new Error(
        `the emulator lists ${listed} of ${planned} planned blobs after a ${options.backdateMs / 3_600_000} h backdate; raise SETTLED_BACKDATE_MS`,
      );
    }
  }
  return { emulator, startMs };
}

/**
 * blobsPerHour for a backlog of about `records` records over `historyHours` in `contentTypes`
 * content types with `recordsPerBlob` records per blob (the range's mean).
 */
export function blobsPerHourFor(
  records: number,
  historyHours: number,
  contentTypes: number,
  recordsPerBlob: [number, number],
): number {
  const mean = (recordsPerBlob[0] + recordsPerBlob[1]) / 2;
  return Math.min(3600, Math.max(0.01, records / (mean * contentTypes * historyHours)));
}
