/**
 * Compares what a collector delivered with the emulator's ground truth: which expected record
 * Ids never arrived (lost), which arrived more than once (duplicated), and which arrived although
 * the emulator never served them (unexpected; always a bug).
 */
import { createReadStream } from "node:fs";
import { link, mkdir, open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { sleep } from "../../collector/src/backoff";

/** Delivery counts per record Id. */
export type DeliveryCounts = Map<string, number>;

/** The outcome of one comparison against the ground truth. */
export interface TruthComparison {
  /** Unique record Ids the emulator says a correct collector delivers. */
  expected: number;
  /** Records delivered, repeats included. */
  delivered: number;
  /** Expected Ids never delivered. */
  lost: number;
  /** Extra copies: delivered records beyond the first of each Id. */
  duplicated: number;
  /** Delivered Ids the emulator never served. */
  unexpected: number;
  /** A few lost Ids, for a failure message. */
  lostSample: string[];
}

/** Adds one delivery of `id`. */
export function countDelivery(counts: DeliveryCounts, id: string): void {
  counts.set(id, (counts.get(id) ?? 0) + 1);
}

/** Compares delivery counts with the set of expected Ids. */
export function compareWithTruth(expected: Set<string>, counts: DeliveryCounts): TruthComparison {
  let delivered = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const [id, n] of counts) {
    delivered += n;
    duplicated += n - 1;
    if (!expected.has(id)) unexpected++;
  }
  let lost = 0;
  const lostSample: string[] = [];
  for (const id of expected) {
    if (!counts.has(id)) {
      lost++;
      if (lostSample.length < 5) lostSample.push(id);
    }
  }
  return { expected: expected.size, delivered, lost, duplicated, unexpected, lostSample };
}

/**
 * The NDJSON files of a file sink whose current file is `filePath`: the rotated ones
 * (`<stem>.<seq>.<ext>`) oldest first, then the current file.
 */
export async function sinkFiles(filePath: string): Promise<string[]> {
  const dir = path.dirname(filePath);
  const ext = path.extname(filePath);
  const stem = path.basename(filePath, ext);
  const rotated = new RegExp(`^${escapeRegExp(stem)}\\.(\\d{6,})${escapeRegExp(ext)}$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = names
    .map((name) => ({ match: rotated.exec(name), name }))
    .filter((entry) => entry.match !== null)
    .sort((a, b) => Number(a.match![1]) - Number(b.match![1]))
    .map((entry) => path.join(dir, entry.name));
  if (await exists(filePath)) files.push(filePath);
  return files;
}

/** Total size of the given files, in bytes. */
export async function totalBytes(files: readonly string[]): Promise<number> {
  let total = 0;
  for (const file of files) total += (await stat(file)).size;
  return total;
}

/**
 * Reads the record Id of every line of the NDJSON files. Each line is parsed as JSON: a record's
 * members may come in any order (repeats are sometimes reordered), so scanning for the first
 * `"Id"` could pick a nested one.
 */
export async function readDeliveredIds(
  files: readonly string[],
  counts: DeliveryCounts = new Map(),
): Promise<DeliveryCounts> {
  for (const file of files) {
    const lines = createInterface({
      input: createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (line === "") continue;
      let record: { Id?: unknown };
      try {
        record = JSON.parse(line) as { Id?: unknown };
      } catch {
        throw new Error(
          `${file}:${lineNo} is not a JSON line; the file sink wrote a broken record`,
        );
      }
      if (typeof record.Id !== "string") {
        throw new Error(`${file}:${lineNo} has no string Id`);
      }
      countDelivery(counts, record.Id.toLowerCase());
    }
  }
  return counts;
}

/** Lower-cases every Id of an expected set (the API's Ids are GUIDs; case carries no meaning). */
export function normaliseIds(ids: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const id of ids) out.add(id.toLowerCase());
  return out;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Keeps every rotated file of a file sink: the sink deletes the oldest rotated files beyond its
 * keep count (10 × 100 MiB), and a million-record backlog writes more than that. Each rotated
 * file is hard-linked into `keepDir` as soon as it appears. Only for runs without crashes: after
 * a crash the sink may undo a rotation, and a kept copy would then count twice.
 */
export function keepRotatedFiles(
  filePath: string,
  keepDir: string,
  intervalMs = 250,
): { stop(): Promise<string[]> } {
  const dir = path.dirname(filePath);
  const ext = path.extname(filePath);
  const stem = path.basename(filePath, ext);
  const rotated = new RegExp(`^${escapeRegExp(stem)}\\.(\\d{6,})${escapeRegExp(ext)}$`);
  const kept = new Map<number, string>();
  let busy = false;
  const scan = async () => {
    if (busy) return;
    busy = true;
    try {
      await mkdir(keepDir, { recursive: true });
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const match = rotated.exec(name);
        if (!match || kept.has(Number(match[1]))) continue;
        const target = path.join(keepDir, name);
        try {
          await link(path.join(dir, name), target);
          kept.set(Number(match[1]), target);
        } catch (error) {
          // Gone between readdir and link: only possible when rotations outrun the scan.
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void scan(), intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      while (busy) await sleep(10);
      await scan();
      const files = [...kept.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
      if (await exists(filePath)) files.push(filePath);
      return files;
    },
  };
}

/**
 * Follows a file sink's current file and reports every new record Id with the time it was first
 * seen. Used at the live edge, where the output is small and never rotates.
 */
export function tailRecordIds(
  filePath: string,
  onRecord: (id: string, seenAtMs: number) => void,
  intervalMs = 200,
): { stop(): Promise<void> } {
  let offset = 0;
  let partial = "";
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const handle = await open(filePath, "r").catch(() => undefined);
      if (!handle) return;
      try {
        const size = (await handle.stat()).size;
        // The sink truncates uncommitted output after a crash; follow it back.
        if (size < offset) offset = size;
        if (size === offset) return;
        const buffer = Buffer.alloc(size - offset);
        await handle.read(buffer, 0, buffer.length, offset);
        offset = size;
        const seenAtMs = Date.now();
        const lines = (partial + buffer.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (line === "") continue;
          const id = (JSON.parse(line) as { Id?: unknown }).Id;
          if (typeof id === "string") onRecord(id.toLowerCase(), seenAtMs);
        }
      } finally {
        await handle.close();
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      while (busy) await sleep(10);
      await poll();
    },
  };
}
