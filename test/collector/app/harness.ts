/**
 * Runs the real collector CLI as a child process against an emulator started in the test
 * process: environment, stderr JSON log capture, waiting for log lines, and reading the NDJSON
 * output back.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { collectorConnectionEnv, type Emulator } from "../../../emulator/src/index";

export const REPO = path.resolve(__dirname, "../../..");
export const MAIN = path.join(REPO, "collector", "src", "main.ts");

/** The inherited environment without any collector or Azure setting of the developer's shell. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(AZURE_|AUDIT_|O365_|LOGS_INGESTION_|IDENTITY_|MSI_)/.test(key)) delete env[key];
  }
  return env;
}

export interface Workspace {
  dir: string;
  statePath: string;
  filePath: string;
  env: NodeJS.ProcessEnv;
}

/** A temp directory and the environment that points the collector at `emulator`. */
export function workspace(emulator: Emulator, extra: Record<string, string> = {}): Workspace {
  const dir = mkdtempSync(path.join(tmpdir(), "auditbridge-app-"));
  const statePath = path.join(dir, "state.db");
  const filePath = path.join(dir, "audit.ndjson");
  return {
    dir,
    statePath,
    filePath,
    env: {
      ...cleanEnv(),
      ...collectorConnectionEnv(emulator),
      AUDIT_STATE: `sqlite:${statePath}`,
      AUDIT_SINK: "file",
      AUDIT_FILE_PATH: filePath,
      AUDIT_QUARANTINE_DIR: path.join(dir, "quarantine"),
      AUDIT_HTTP_HOST: "127.0.0.1",
      AUDIT_HTTP_PORT: "0",
      AUDIT_POLL_INTERVAL: "1s",
      ...extra,
    },
  };
}

export interface CollectorProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** stderr lines that are not JSON (the one-line errors). */
  plain: string[];
  stdout: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** Resolves with the first log line matching, or rejects after `timeoutMs`. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the /healthz + /metrics port once the collector logged it. */
  port(): Promise<number>;
}

const running = new Set<ChildProcess>();

/** Kills every collector a test left running (call from `afterEach`). */
export async function killStragglers(): Promise<void> {
  const waits = [...running].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  );
  running.clear();
  await Promise.all(waits);
}

/** Spawns `node --import tsx <entry> ...args` with `env`. */
export function spawnCollector(
  args: string[],
  env: NodeJS.ProcessEnv,
  entry: string[] = ["--import", "tsx", MAIN],
  cwd: string = REPO,
): CollectorProcess {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const logs: Record<string, unknown>[] = [];
  const plain: string[] = [];
  let out = "";
  let pendingErr = "";
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    pendingErr += chunk;
    const lines = pendingErr.split("\n");
    pendingErr = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        plain.push(line);
      }
    }
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      for (const listener of listeners) listener();
      resolve(code ?? signal ?? "unknown");
    });
  });

  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = logs.find(match);
        if (found) {
          cleanup();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(
            new Error(
              `collector exited (${child.exitCode ?? child.signalCode}) before the expected log line; stderr: ${[...plain, ...logs.map((l) => JSON.stringify(l))].slice(-8).join(" | ")}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for a log line; last lines: ${logs
              .slice(-5)
              .map((l) => JSON.stringify(l))
              .join(" | ")}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    child,
    logs,
    plain,
    stdout: () => out,
    exited,
    waitForLog,
    port: async () => {
      const line = await waitForLog(
        (l) => typeof l.port === "number" && /healthz/.test(String(l.msg)),
      );
      return line.port as number;
    },
  };
}

/**
 * Record Ids in an NDJSON file, in file order (duplicates kept). A collector that is still
 * running may be half-way through writing a line: with `live`, a last line without its
 * newline is not counted yet; without it (the collector has stopped) every line must parse.
 */
export function idsInFile(filePath: string, options: { live?: boolean } = {}): string[] {
  if (!existsSync(filePath)) return [];
  const lines = readFileSync(filePath, "utf8").split("\n");
  if (options.live) lines.pop();
  return lines.filter((line) => line !== "").map((line) => (JSON.parse(line) as { Id: string }).Id);
}

/** Polls `probe` every 100 ms until it returns a value; throws after `timeoutMs`. */
export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sorted copy, for comparing sets of ids with readable diffs. */
export function sorted(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

/** The exit code, with the collector's last stderr lines attached when it is not `expected`. */
export async function exitCodeOf(
  collector: CollectorProcess,
  expected: number | string,
): Promise<number | string> {
  const code = await collector.exited;
  if (code !== expected) {
    const tail = [...collector.logs.map((l) => JSON.stringify(l)), ...collector.plain]
      .slice(-12)
      .join("\n");
    throw new Error(`collector exited with ${code}, expected ${expected}; stderr tail:\n${tail}`);
  }
  return code;
}
