/**
 * Floors the benchmark compares the collector with, measured or computed in the same run.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";

/** What the minimal loop did. */
export interface ThroughputFloor {
  records: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  /** Of elapsedMs, the time spent reading and writing the files (the rest is parse + stringify). */
  ioMs: number;
}

/** Bytes collected before one write to the output file (large writes, as a fast loop would). */
const WRITE_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The throughput floor: the same NDJSON bytes the collector delivered, read, each record parsed
 * with `JSON.parse`, re-serialised with `JSON.stringify` and written to `scratchPath` by one
 * plain loop in this process. No network, no dedup, no state: what a single core can do with the
 * bytes at all.
 */
export function measureThroughputFloor(
  files: readonly string[],
  scratchPath: string,
): ThroughputFloor {
  const started = performance.now();
  const out = openSync(scratchPath, "w");
  let records = 0;
  let bytes = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  let ioMs = 0;
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("");
    const writeStarted = performance.now();
    writeSync(out, text);
    ioMs += performance.now() - writeStarted;
    pending = [];
    pendingBytes = 0;
  };
  try {
    for (const file of files) {
      const readStarted = performance.now();
      const text = readFileSync(file, "utf8");
      ioMs += performance.now() - readStarted;
      bytes += Buffer.byteLength(text);
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf("\n", start);
        if (end === -1) end = text.length;
        if (end > start) {
          const line = `${JSON.stringify(JSON.parse(text.slice(start, end)))}\n`;
          pending.push(line);
          pendingBytes += line.length;
          records++;
          if (pendingBytes >= WRITE_CHUNK_BYTES) flush();
        }
        start = end + 1;
      }
    }
    flush();
  } finally {
    closeSync(out);
  }
  const elapsedMs = performance.now() - started;
  rmSync(scratchPath, { force: true });
  return {
    records,
    bytes,
    elapsedMs,
    ioMs,
    recordsPerSecond: records / (elapsedMs / 1000),
    megabytesPerSecond: bytes / 1e6 / (elapsedMs / 1000),
  };
}

/** The drain floor: the fewest API requests a backlog needs, spent at the full budget. */
export interface DrainFloor {
  blobs: number;
  listPages: number;
  subscriptionCalls: number;
  requests: number;
  requestsPerMinute: number;
  floorMs: number;
}

/** Milliseconds of one listing window (the API lists at most 24 hours per call). */
const WINDOW_MS = 24 * 3_600_000;

/**
 * Fewest requests to drain the listed blobs: one GET per blob, per content type at least one
 * listing page per 24-hour window covering its blobs and one per `pageSize` blobs, and one
 * `subscriptions/start` per content type. Token requests go to Entra ID, not to the budget.
 */
export function computeDrainFloor(
  blobs: readonly { contentType: string; contentCreated: string }[],
  pageSize: number,
  requestsPerMinute: number,
): DrainFloor {
  const byType = new Map<string, number[]>();
  for (const blob of blobs) {
    const list = byType.get(blob.contentType) ?? [];
    list.push(Date.parse(blob.contentCreated));
    byType.set(blob.contentType, list);
  }
  let listPages = 0;
  for (const created of byType.values()) {
    const span = Math.max(...created) - Math.min(...created);
    const windows = Math.max(1, Math.ceil(span / WINDOW_MS));
    listPages += Math.max(windows, Math.ceil(created.length / pageSize));
  }
  const subscriptionCalls = byType.size;
  const requests = blobs.length + listPages + subscriptionCalls;
  return {
    blobs: blobs.length,
    listPages,
    subscriptionCalls,
    requests,
    requestsPerMinute,
    floorMs: (requests / requestsPerMinute) * 60_000,
  };
}
