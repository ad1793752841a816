/**
 * A single-line progress display on a terminal while the collector catches up: records per
 * second, blobs, lag. Only when stderr is a TTY; otherwise stderr carries JSON log lines and
 * nothing else. Log lines written through {@link ProgressDisplay.logDestination} clear the
 * line first and redraw it after, so the two never garble each other.
 */
import type { CollectorMetrics } from "./metrics";

/** Redraw period: fast enough to feel live, slow enough to cost nothing. */
export const PROGRESS_REFRESH_MS = 250;
/** Records-per-second is averaged over this many recent seconds. */
const RATE_WINDOW_MS = 5_000;

/** The stream the display draws on: `process.stderr` in production, a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export interface ProgressOptions {
  stream: ProgressStream;
  metrics: CollectorMetrics;
  /** Lag above which the collector counts as catching up (default: 2 × poll interval). */
  catchingUpLagSeconds: number;
  /** Clock, epoch ms (default `Date.now`). */
  nowMs?: () => number;
}

/** Totals the display reads from the metrics. */
export interface ProgressSample {
  records: number;
  blobs: number;
  /** Largest lag across content types, seconds; undefined before the first delivery. */
  lagSeconds?: number;
}

/** Reads the totals from the shared metrics (sums over content types). */
export async function sampleProgress(metrics: CollectorMetrics): Promise<ProgressSample> {
  const sum = async (metric: { get(): Promise<{ values: { value: number }[] }> }) =>
    (await metric.get()).values.reduce((total, v) => total + v.value, 0);
  const lag = (await metrics.lagSeconds.get()).values.map((v) => v.value);
  return {
    records: await sum(metrics.recordsDelivered),
    blobs: await sum(metrics.blobsFetched),
    ...(lag.length > 0 ? { lagSeconds: Math.max(...lag) } : {}),
  };
}

/** `93784` → `1d2h` (two most significant units): lag is read at a glance. */
export function formatLag(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const units: [string, number][] = [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [unit, size] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join("");
}

/** The text of one progress line. */
export function renderProgressLine(sample: ProgressSample, recordsPerSecond: number): string {
  const rate = recordsPerSecond >= 100 ? Math.round(recordsPerSecond) : recordsPerSecond.toFixed(1);
  const lag = sample.lagSeconds === undefined ? "–" : formatLag(sample.lagSeconds);
  return `catching up: ${sample.records.toLocaleString("en-US")} records (${rate}/s), ${sample.blobs.toLocaleString("en-US")} blobs, lag ${lag}`;
}

/**
 * The terminal progress line. Inert when the stream is not a TTY: `start` does nothing and
 * `logDestination` passes log lines straight through.
 */
export class ProgressDisplay {
  readonly enabled: boolean;
  private timer: NodeJS.Timeout | undefined;
  private shown = "";
  private readonly history: { atMs: number; records: number }[] = [];
  private readonly nowMs: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.enabled = options.stream.isTTY === true;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Starts redrawing every {@link PROGRESS_REFRESH_MS}. */
  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => {
      this.tick().catch(() => {
        // Metrics reads do not fail in practice; a missed frame is harmless.
      });
    }, PROGRESS_REFRESH_MS);
    this.timer.unref();
  }

  /** Samples the metrics and redraws (or clears, once caught up). */
  async tick(): Promise<void> {
    if (!this.enabled) return;
    const sample = await sampleProgress(this.options.metrics);
    const nowMs = this.nowMs();
    this.history.push({ atMs: nowMs, records: sample.records });
    while (this.history.length > 2 && nowMs - this.history[0]!.atMs > RATE_WINDOW_MS) {
      this.history.shift();
    }
    const oldest = this.history[0]!;
    const elapsedInMs = nowMs - oldest.atMs;
    const rate = elapsedInMs > 0 ? ((sample.records - oldest.records) * 1000) / elapsedInMs : 0;
    const catchingUp =
      sample.lagSeconds === undefined || sample.lagSeconds > this.options.catchingUpLagSeconds;
    this.draw(catchingUp ? renderProgressLine(sample, rate) : "");
  }

  /** Clears the line and stops redrawing. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw("");
  }

  /**
   * A pino destination that keeps log lines and the progress line apart: clear, write the log
   * line, redraw.
   */
  logDestination(): { write(line: string): boolean } {
    const stream = this.options.stream;
    return {
      write: (line: string) => {
        if (!this.enabled || this.shown === "") return stream.write(line);
        const redraw = this.shown;
        this.draw("");
        const ok = stream.write(line);
        this.draw(redraw);
        return ok;
      },
    };
  }

  private draw(text: string): void {
    // A pty without a size reports 0 columns: assume the classic 80.
    const width = Math.max(20, (this.options.stream.columns || 80) - 1);
    const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    if (line === this.shown) return;
    // \r to column 0, ESC[2K erases the line: no newline, so the line is reused.
    this.options.stream.write(`\r\x1b[2K${line}`);
    this.shown = line;
  }
}
