/**
 * Runs the real collector (`collector/src/main.ts run [--once]`) as a child process for the
 * benchmark and the chaos suite, and watches its memory from outside.
 *
 * The child is `node <COLLECTOR_NODE_FLAGS> --import <tsx loader> collector/src/main.ts`, one process: the `tsx` CLI
 * would put a wrapper process in between, so a `kill -9` would hit the wrapper and leave the
 * collector running, and the wrapper's memory would be measured instead of the collector's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { COLLECTOR_NODE_FLAGS, COLLECTOR_PROCESS_ENV } from "../../collector/src/nodeFlags";
import { MAX_API_REQUESTS_PER_MINUTE } from "../../collector/src/settings";
import { collectorConnectionEnv, type Emulator } from "../../emulator/src/index";

/** Repository root (bench/lib/ is two levels below it). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const COLLECTOR_MAIN = path.join(REPO_ROOT, "collector", "src", "main.ts");
const TSX_LOADER = pathToFileURL(path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs"));

/** How often the child's resident set is sampled, in ms. */
export const RSS_SAMPLE_INTERVAL_MS = 100;
/** Lines of the child's stderr kept for the report when it fails. */
const STDERR_TAIL_LINES = 40;

/** A syslog receiver for the collector's syslog sink (SYSLOG_* settings). */
export interface SyslogSetup {
  /** `tcp://`, `tls://` or `udp://host:port`. */
  url: string;
  format: "cef" | "leef" | "json";
  /** PEM files for `tls://` (the receiver's CA, and a client certificate for mutual TLS). */
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}

/** Where the collector writes and keeps its state. */
export type SinkSetup =
  | { kind: "file"; filePath: string }
  | { kind: "logs-ingestion" }
  | { kind: "file+logs-ingestion"; filePath: string }
  | { kind: "syslog"; syslog: SyslogSetup }
  /** The emulator's Splunk HEC receiver, with or without indexer acknowledgement. */
  | { kind: "splunk-hec"; ack: boolean }
  | { kind: "logs-ingestion+syslog"; syslog: SyslogSetup };

export interface CollectorEnvOptions {
  emulator: Emulator;
  /** SQLite state file, or any AUDIT_STATE value. */
  state: string;
  sink: SinkSetup;
  quarantineDir: string;
  /** AUDIT_POLL_INTERVAL, e.g. "60s". */
  pollInterval?: string;
  /** AUDIT_INITIAL_LOOKBACK, e.g. "7d". */
  initialLookback?: string;
  /**
   * AUDIT_API_REQUESTS_PER_MINUTE: the request pacer's budget. Unset: {@link UNTHROTTLED_BENCH_BUDGET},
   * because only the drain scenario's emulator enforces a limit.
   */
  apiRequestsPerMinute?: number;
  logLevel?: string;
}

/**
 * The pacer's budget where the emulator enforces no request limit: the highest the collector
 * accepts. With the default 1,800 a minute and the bench's blobs of about 1,000 records, the
 * pacer alone would hold a backlog run near 30,000 records/s, the ceiling Microsoft's limit puts
 * on one tenant; the processing speed these scenarios measure is a separate figure, and how the
 * collector meets the limit is the drain scenario's subject.
 */
export const UNTHROTTLED_BENCH_BUDGET = MAX_API_REQUESTS_PER_MINUTE;

/**
 * The collector's environment (domain/collectorEnv.ts) pointing at the emulator. Only the
 * variables the bench needs are passed through from the parent, so a developer's own AZURE_*
 * settings cannot leak into a run.
 */
export function collectorEnv(options: CollectorEnvOptions): NodeJS.ProcessEnv {
  const { emulator, sink } = options;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // As the image sets it (collector/Dockerfile).
    ...COLLECTOR_PROCESS_ENV,
    ...collectorConnectionEnv(emulator),
    AUDIT_STATE: options.state.includes(":") ? options.state : `sqlite:${options.state}`,
    AUDIT_QUARANTINE_DIR: options.quarantineDir,
    AUDIT_INITIAL_LOOKBACK: options.initialLookback ?? "7d",
    AUDIT_POLL_INTERVAL: options.pollInterval ?? "60s",
    // Port 0: several collectors may run on this machine at once (other benches, tests).
    AUDIT_HTTP_PORT: "0",
    AUDIT_LOG_LEVEL: options.logLevel ?? "warn",
    AUDIT_API_REQUESTS_PER_MINUTE: String(options.apiRequestsPerMinute ?? UNTHROTTLED_BENCH_BUDGET),
  };
  switch (sink.kind) {
    case "file":
      env.AUDIT_SINK = "file";
      env.AUDIT_FILE_PATH = sink.filePath;
      break;
    case "logs-ingestion":
      env.AUDIT_SINK = "logs-ingestion";
      break;
    case "file+logs-ingestion":
      env.AUDIT_SINK = "file,logs-ingestion";
      env.AUDIT_FILE_PATH = sink.filePath;
      break;
    case "syslog":
      env.AUDIT_SINK = "syslog";
      Object.assign(env, syslogEnv(sink.syslog));
      break;
    case "splunk-hec":
      env.AUDIT_SINK = "splunk-hec";
      env.SPLUNK_HEC_URL = emulator.url;
      env.SPLUNK_HEC_TOKEN = emulator.splunkHec.token;
      env.SPLUNK_HEC_ACK = String(sink.ack);
      break;
    case "logs-ingestion+syslog":
      env.AUDIT_SINK = "logs-ingestion,syslog";
      Object.assign(env, syslogEnv(sink.syslog));
      break;
  }
  return env;
}

function syslogEnv(syslog: SyslogSetup): Record<string, string> {
  return {
    SYSLOG_URL: syslog.url,
    SYSLOG_FORMAT: syslog.format,
    ...(syslog.caFile ? { SYSLOG_CA_FILE: syslog.caFile } : {}),
    ...(syslog.clientCertFile ? { SYSLOG_CLIENT_CERT_FILE: syslog.clientCertFile } : {}),
    ...(syslog.clientKeyFile ? { SYSLOG_CLIENT_KEY_FILE: syslog.clientKeyFile } : {}),
  };
}

/** How a collector child ended. */
export interface CollectorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Wall time from spawn to exit, in ms. */
  elapsedMs: number;
  /** Highest resident set seen (max of VmHWM and VmRSS samples), in bytes. */
  peakRssBytes: number;
  /** The last lines of stderr (JSON log lines and the one-line failure reason). */
  stderrTail: string[];
}

/** A running collector child. */
export interface CollectorProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<CollectorExit>;
  /** Sends a signal (SIGKILL for a crash, SIGTERM for a graceful stop). */
  kill(signal: NodeJS.Signals): void;
  /** Highest resident set seen so far, in bytes. */
  peakRssBytes(): number;
  /** Recent stderr lines. */
  stderrTail(): string[];
}

/** Reads VmHWM and VmRSS (kB) of a process from /proc; zero once the process is gone. */
export function readMemoryKb(pid: number): { hwmKb: number; rssKb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return { hwmKb: hwm ? Number(hwm[1]) : 0, rssKb: rss ? Number(rss[1]) : 0 };
  } catch {
    return { hwmKb: 0, rssKb: 0 };
  }
}

export interface SpawnCollectorOptions {
  env: NodeJS.ProcessEnv;
  /** `run --once` (catch up and exit) instead of the long-running `run`. */
  once: boolean;
  /** Extra node flags for the child, e.g. a heap limit. */
  nodeFlags?: string[];
  /** Runs node through this command prefix (the container mode's move into a cgroup). */
  launcher?: string[];
  /** The compiled collector's main.js to run instead of the TypeScript sources (the image's). */
  compiledMain?: string;
  /** Called with every complete stderr line (for watching log events). */
  onStderrLine?: (line: string) => void;
}

let echoStderr = false;

/** Copies every collector's stderr (its JSON log lines) to this process's stderr (`--verbose`). */
export function setEchoCollectorLogs(on: boolean): void {
  echoStderr = on;
}

let cpuProfileDir: string | undefined;

/** Writes a V8 CPU profile of every collector process into `dir` (`--cpu-prof-dir`). */
export function setCollectorCpuProfileDir(dir: string | undefined): void {
  cpuProfileDir = dir;
}

/** Starts the collector as a child process and samples its memory every 100 ms. */
export function spawnCollector(options: SpawnCollectorOptions): CollectorProcess {
  const args = [
    ...COLLECTOR_NODE_FLAGS,
    ...(options.nodeFlags ?? []),
    ...(cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfileDir] : []),
    ...(options.compiledMain
      ? [options.compiledMain]
      : ["--import", TSX_LOADER.href, COLLECTOR_MAIN]),
    "run",
    ...(options.once ? ["--once"] : []),
  ];
  const startedAt = performance.now();
  const [command, ...prefix] = options.launcher ?? [process.execPath];
  const child = spawn(command!, options.launcher ? [...prefix, process.execPath, ...args] : args, {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (child.pid === undefined) throw new Error("could not start the collector process");
  const pid = child.pid;

  let peakBytes = 0;
  const sample = () => {
    const { hwmKb, rssKb } = readMemoryKb(pid);
    peakBytes = Math.max(peakBytes, hwmKb * 1024, rssKb * 1024);
  };
  const sampler = setInterval(sample, RSS_SAMPLE_INTERVAL_MS);

  const tail: string[] = [];
  let partial = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") continue;
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      options.onStderrLine?.(line);
      if (echoStderr) process.stderr.write(`[collector ${pid}] ${line}\n`);
    }
  });

  const exited = new Promise<CollectorExit>((resolve, reject) => {
    child.once("error", (error) => {
      clearInterval(sampler);
      reject(new Error(`collector process failed to run: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearInterval(sampler);
      if (partial !== "") tail.push(partial);
      resolve({
        code,
        signal,
        elapsedMs: performance.now() - startedAt,
        peakRssBytes: peakBytes,
        stderrTail: [...tail],
      });
    });
  });
  // The 'exit' event comes before the pipes close; the last sample is taken as late as possible.
  child.once("exit", sample);

  return {
    pid,
    child,
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    peakRssBytes: () => peakBytes,
    stderrTail: () => [...tail],
  };
}

/** Runs `run --once` to the end; throws with the collector's last words when it fails. */
export async function runCollectorOnce(
  options: Omit<SpawnCollectorOptions, "once">,
): Promise<CollectorExit> {
  const proc = spawnCollector({ ...options, once: true });
  const result = await proc.exited;
  if (result.code !== 0) {
    throw new Error(
      `collector run --once exited with ${result.code ?? result.signal}:\n${result.stderrTail.slice(-8).join("\n")}`,
    );
  }
  return result;
}
