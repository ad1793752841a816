import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  truncate,
  unlink,
} from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { Logger } from "../log";
import type { Batch, DeliveryOutcome, OperationOptions, Sink } from "../types";

/** Rotate the current file once it would grow past this size, in bytes (100 MiB). */
export const DEFAULT_FILE_MAX_BYTES = 100 * 1024 * 1024;
/** Rotated files kept besides the current one. */
export const DEFAULT_FILE_KEEP = 10;

export interface FileSinkOptions {
  /** The current NDJSON file, e.g. `./.auditbridge/audit.ndjson`. */
  path: string;
  /** Rotate before a write that would take the current file past this size (bytes). */
  maxBytes?: number;
  /** Rotated files to keep, at least 1 (oldest deleted first). */
  keep?: number;
  logger?: Logger;
  /** Sink name reported to the pipeline (default `file`). */
  name?: string;
}

/** Where the file sink stands: the rotation sequence of the current file and its length. */
export interface FilePosition {
  seq: number;
  offset: number;
}

/** Parses a position string written by the file sink; throws a one-line error otherwise. */
export function parseFilePosition(position: string): FilePosition {
  const parsed = /^(\d+):(\d+)$/.exec(position);
  if (!parsed) {
    throw new Error(
      `file sink position "${position}" is not "<seq>:<offset>"; the state was not written by the file sink`,
    );
  }
  return { seq: Number(parsed[1]), offset: Number(parsed[2]) };
}

/** Formats a {@link FilePosition} as stored in the state (`<seq>:<offset>`). */
export function formatFilePosition(position: FilePosition): string {
  return `${position.seq}:${position.offset}`;
}

/**
 * NDJSON file sink: one record per line, exactly as received (`ReceivedRecord.raw`).
 *
 * Files: the current file is `path`; a rotation renames it to `<stem>.<seq>.<ext>` (seq
 * zero-padded, increasing, never reused) and starts an empty current file with seq + 1. The
 * position (`<seq>:<offset>`) names the current file's sequence and length after an
 * acknowledged write. `start(committed)` restores exactly that state: files written after the
 * committed position are removed, a rotation after it is undone, and the tail is truncated.
 * That is how a crash between "written" and "checkpointed" repeats nothing.
 *
 * Every `deliver` ends with `fdatasync` before it acknowledges; concurrent deliveries share one.
 */
export class FileSink implements Sink {
  readonly name: string;
  readonly path: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly logger?: Logger;
  private handle: FileHandle | undefined;
  private seq = 1;
  private offset = 0;
  private writeChain: Promise<void> = Promise.resolve();
  private flushQueued: Promise<void> | undefined;
  private flushRunning: Promise<void> | undefined;

  constructor(options: FileSinkOptions) {
    if (!options.path || options.path.trim() === "") {
      throw new Error("file sink path is empty; set AUDIT_FILE_PATH");
    }
    const maxBytes = options.maxBytes ?? DEFAULT_FILE_MAX_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes < 1024) {
      throw new Error(`file sink maxBytes ${maxBytes} is invalid; use an integer of at least 1024`);
    }
    const keep = options.keep ?? DEFAULT_FILE_KEEP;
    // At least one rotated file is kept: a rotation not yet committed may have to be undone.
    if (!Number.isInteger(keep) || keep < 1) {
      throw new Error(`file sink keep ${keep} is invalid; use an integer of at least 1`);
    }
    this.name = options.name ?? "file";
    this.path = resolve(options.path);
    this.maxBytes = maxBytes;
    this.keep = keep;
    this.logger = options.logger;
  }

  /** The rotated file name of a sequence number. */
  rotatedPath(seq: number): string {
    const ext = extname(this.path);
    const stem = basename(this.path, ext);
    return join(dirname(this.path), `${stem}.${String(seq).padStart(6, "0")}${ext}`);
  }

  /** Rotated files on disk, oldest first. */
  async rotatedFiles(): Promise<Array<{ seq: number; path: string }>> {
    const ext = extname(this.path);
    const stem = basename(this.path, ext);
    const pattern = new RegExp(`^${escapeRegExp(stem)}\\.(\\d{6,})${escapeRegExp(ext)}$`);
    const names = await readdir(dirname(this.path)).catch(() => [] as string[]);
    return names
      .map((name) => ({ match: pattern.exec(name), name }))
      .filter((entry) => entry.match !== null)
      .map((entry) => ({
        seq: Number(entry.match![1]),
        path: join(dirname(this.path), entry.name),
      }))
      .sort((a, b) => a.seq - b.seq);
  }

  async start(committedPosition: string | undefined, _options?: OperationOptions): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const rotated = await this.rotatedFiles();
    const currentSeq = (rotated.at(-1)?.seq ?? 0) + 1;
    const currentSize = await fileSize(this.path);

    if (committedPosition === undefined) {
      // Nothing was ever committed: whatever the current file holds was never acknowledged
      // (or belongs to a previous state). Keep it for inspection, out of the delivered series.
      if (currentSize > 0) {
        const aside = `${this.path}.uncommitted-${Date.now()}`;
        await rename(this.path, aside);
        this.logger?.warn(
          { file: aside },
          "file sink: moved content without a committed position aside",
        );
      }
      this.seq = currentSeq;
      this.offset = 0;
    } else {
      const committed = parseFilePosition(committedPosition);
      if (committed.seq > currentSeq) {
        throw new Error(
          `file sink position ${committedPosition} is ahead of ${this.path} (sequence ${currentSeq}); the output files were removed or replaced — restore them or reset the state`,
        );
      }
      if (committed.seq < currentSeq) {
        // Rotations happened after the last commit: drop what they wrote, reinstate the file.
        const reinstated = rotated.find((file) => file.seq === committed.seq);
        if (!reinstated) {
          throw new Error(
            `file sink position ${committedPosition} names rotated file ${this.rotatedPath(committed.seq)}, which no longer exists; raise keep or reset the state`,
          );
        }
        await unlink(this.path).catch(ignoreMissing);
        for (const file of rotated) if (file.seq > committed.seq) await unlink(file.path);
        await rename(reinstated.path, this.path);
        this.logger?.warn(
          { position: committedPosition },
          "file sink: undid rotations after the committed position",
        );
      }
      const size = await fileSize(this.path);
      if (size < committed.offset) {
        throw new Error(
          `file sink position ${committedPosition} is beyond the end of ${this.path} (${size} bytes); the file was truncated or replaced — restore it or reset the state`,
        );
      }
      if (size > committed.offset) {
        await truncate(this.path, committed.offset);
        this.logger?.info(
          { bytes: size - committed.offset, position: committedPosition },
          "file sink: removed output written after the last commit",
        );
      }
      this.seq = committed.seq;
      this.offset = committed.offset;
    }
    this.handle = await open(this.path, "a");
    await this.handle.datasync();
  }

  /**
   * Appends the batch and acknowledges once it is on disk. Concurrent calls are written in call
   * order and share `fdatasync` calls (group commit), so many small batches cost one flush.
   */
  async deliver(batch: Batch, _options?: OperationOptions): Promise<DeliveryOutcome> {
    if (!this.handle) return { kind: "failure", error: new Error("file sink used before start()") };
    const body = toNdjson(batch);
    const written = this.writeChain.then(() => this.append(body));
    this.writeChain = written.then(
      () => undefined,
      () => undefined,
    );
    try {
      const position = await written;
      await this.flush();
      return { kind: "success", position };
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      const message = `file sink cannot write ${this.path}: ${err.message}`;
      // A full disk may clear (log rotation elsewhere, an operator); anything else will not.
      if (err.code === "ENOSPC" || err.code === "EIO" || err.code === "EAGAIN") {
        return { kind: "retryable", error: new Error(message, { cause: error }) };
      }
      return { kind: "failure", error: new Error(message, { cause: error }) };
    }
  }

  /** Writes one body at the end (rotating first if needed); runs strictly one at a time. */
  private async append(body: NdjsonBody): Promise<string> {
    if (this.offset > 0 && this.offset + body.size > this.maxBytes) await this.rotate();
    const handle = this.handle!;
    try {
      let parts = body.parts;
      while (parts.length > 0) {
        const { bytesWritten } = await handle.writev(parts);
        parts = dropWritten(parts, bytesWritten);
      }
    } catch (error) {
      // Cut any partial line so the next write starts at a clean offset.
      await handle.truncate(this.offset).catch(() => {});
      throw error;
    }
    this.offset += body.size;
    return formatFilePosition({ seq: this.seq, offset: this.offset });
  }

  /**
   * Resolves once everything appended before the call is on disk. A flush already waiting to
   * start covers this caller too; a running one may have started before our write, so a new
   * one is queued behind it.
   */
  private flush(): Promise<void> {
    if (!this.flushQueued) {
      const queued = (this.flushRunning ?? Promise.resolve()).then(() => {
        this.flushQueued = undefined;
        const running = this.handle!.datasync();
        this.flushRunning = running;
        return running.finally(() => {
          if (this.flushRunning === running) this.flushRunning = undefined;
        });
      });
      this.flushQueued = queued;
    }
    return this.flushQueued;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private async rotate(): Promise<void> {
    // A flush may be running or queued on the old handle; let it finish before closing it.
    while (this.flushQueued || this.flushRunning) {
      await (this.flushQueued ?? this.flushRunning)!.catch(() => {});
    }
    await this.handle!.datasync();
    await this.handle!.close();
    this.handle = undefined;
    await rename(this.path, this.rotatedPath(this.seq));
    this.seq += 1;
    this.offset = 0;
    this.handle = await open(this.path, "a");
    await syncDirectory(dirname(this.path));
    const rotated = await this.rotatedFiles();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.keep))) {
      await unlink(old.path).catch(ignoreMissing);
    }
  }
}

const NEWLINE = new Uint8Array([0x0a]);

/** A batch as NDJSON: pieces written in order with one `writev`, and their total size. */
interface NdjsonBody {
  parts: Uint8Array[];
  size: number;
}

/**
 * The batch as NDJSON bytes. Raw JSON text holds newlines only as insignificant whitespace.
 * Records that come with their bytes (parsed on a worker thread) are written as they are, no
 * copy and no string in between. Text records are encoded straight into one buffer of the
 * exact size: concatenating a thousand records into one string and encoding that cost several
 * times more (measured with `npm run bench -- --scenario throughput`).
 */
function toNdjson(batch: Batch): NdjsonBody {
  const parts: Uint8Array[] = [];
  let size = 0;
  let lines: string[] = [];
  let linesSize = 0;
  const flushLines = () => {
    if (lines.length === 0) return;
    const body = Buffer.allocUnsafe(linesSize);
    let offset = 0;
    for (const line of lines) {
      offset += body.write(line, offset, "utf8");
      body[offset++] = 0x0a;
    }
    parts.push(body);
    lines = [];
    linesSize = 0;
  };
  for (const record of batch.records) {
    const bytes = record.bytes;
    if (bytes !== undefined && bytes.indexOf(0x0a) < 0 && bytes.indexOf(0x0d) < 0) {
      flushLines();
      parts.push(bytes, NEWLINE);
      size += bytes.byteLength + 1;
      continue;
    }
    const raw = record.raw;
    const line = raw.includes("\n") || raw.includes("\r") ? raw.replace(/[\r\n]+/g, " ") : raw;
    const lineSize = Buffer.byteLength(line, "utf8") + 1;
    lines.push(line);
    linesSize += lineSize;
    size += lineSize;
  }
  flushLines();
  return { parts, size };
}

/** What is left of `parts` after the first `bytes` bytes were written. */
function dropWritten(parts: Uint8Array[], bytes: number): Uint8Array[] {
  let left = bytes;
  let index = 0;
  while (index < parts.length && left >= parts[index]!.byteLength) {
    left -= parts[index]!.byteLength;
    index++;
  }
  if (index === parts.length) return [];
  const rest = parts.slice(index);
  if (left > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
