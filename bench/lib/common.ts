/**
 * Small helpers shared by the benchmark and the chaos suite: temporary workspaces, formatting,
 * percentiles, the summary table and the machine description.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { sleep } from "../../collector/src/backoff";

/** A temporary directory for one scenario's state, output and quarantine. */
export interface Workspace {
  dir: string;
  statePath: string;
  outputDir: string;
  filePath: string;
  quarantineDir: string;
  /** Removes the directory (immutable flags set by a fault are cleared first). */
  dispose(): void;
}

/** Creates a workspace under the system temp directory. */
export function createWorkspace(label: string): Workspace {
  const dir = mkdtempSync(path.join(tmpdir(), `auditbridge-${label}-`));
  const outputDir = path.join(dir, "out");
  return {
    dir,
    statePath: path.join(dir, "state", "state.db"),
    outputDir,
    filePath: path.join(outputDir, "audit.ndjson"),
    quarantineDir: path.join(dir, "quarantine"),
    dispose() {
      clearImmutable(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sets or clears the ext4 immutable flag (`chattr +i`/`-i`). Used to make a path unwritable even
 * for root, who ignores permission bits. Throws when the file system does not support it.
 */
export function setImmutable(paths: readonly string[], on: boolean): void {
  if (paths.length === 0) return;
  execFileSync("chattr", [on ? "+i" : "-i", ...paths], { stdio: ["ignore", "ignore", "pipe"] });
}

/** Clears the immutable flag everywhere under `dir` (best effort; used in cleanup). */
export function clearImmutable(dir: string): void {
  try {
    execFileSync("chattr", ["-R", "-i", dir], { stdio: "ignore" });
  } catch {
    // Nothing was immutable, or chattr is unavailable: rmSync reports what remains.
  }
}

/** Sets the file-size resource limit (RLIMIT_FSIZE) of a running process; undefined lifts it. */
export function setFileSizeLimit(pid: number, bytes: number | undefined): void {
  const value = bytes === undefined ? "unlimited" : String(bytes);
  execFileSync("prlimit", ["--pid", String(pid), `--fsize=${value}:${value}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** The codebase's one abortable sleep (collector/src/backoff.ts), for the bench's own waits. */
export { sleep };

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return check();
}

/** The p-th percentile (0..100) of the values, nearest-rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** `1234567` → `1,234,567`. */
export function formatInt(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Seconds with one decimal. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Bytes as MB (10^6) with one decimal. */
export function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A plain-text table with a header row, columns padded to their widest cell. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ");
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((row) => line(row)),
  ].join("\n");
}

/** What the figures were measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Writes one line to stdout (CLIs write with process.stdout.write; see biome.json). */
export function say(text = ""): void {
  process.stdout.write(`${text}\n`);
}
