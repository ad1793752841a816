/**
 * `npm run bench`: drives the real collector against the emulator and prints throughput, drain
 * time under the API's rate limit, memory, freshness and the Logs Ingestion path, each with its
 * ratio to a floor measured in the same run. Asserts nothing; writes bench/results/<date>.json.
 *
 * Exit codes: 0 figures printed (even when a target is missed), 1 a scenario could not run,
 * 2 bad arguments.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  BENCH_SCENARIOS,
  type BenchOptions,
  type BenchResult,
  DEFAULT_BENCH_RECORDS,
  DEFAULT_DRAIN_BUDGET,
} from "./lib/benchScenarios";
import { REPO_ROOT, setCollectorCpuProfileDir, setEchoCollectorLogs } from "./lib/collector";
import { formatInt, machineInfo, renderTable, say } from "./lib/common";
import { SINK_SCENARIOS } from "./lib/sinkScenarios";

/** Every scenario in run order: the collector's own, then one per sink. */
const SCENARIOS = { ...BENCH_SCENARIOS, ...SINK_SCENARIOS };

const HELP = `Example:
  npm run bench -- --scenario throughput --records 200000

Usage: npm run bench -- [--scenario <name>] [--records <n>] [--seed <n>] [--live-minutes <n>]
                        [--drain-budget <n>]

  --scenario <name>    run one scenario: ${Object.keys(SCENARIOS).join(", ")} (default: all)
  --records <n>        backlog size of throughput, logs-ingestion and the sink scenarios
                       (syslog-*, splunk-hec*, fanout-*) (default 1000000); logs-ingestion
                       results of another size are kept as logs-ingestion-<n>
  --seed <n>           emulator seed (default 1)
  --live-minutes <n>   length of the freshness run at the live edge (default 5)
  --drain-budget <n>   the collector's AUDIT_API_REQUESTS_PER_MINUTE in the drain scenario,
                       whose emulated limit is 6000 a minute (default 5700); above 6000 it
                       shows how the pacer backs away from AF429; results are kept as
                       drain-budget-<n>
  --container          logs-ingestion: run the collector in a cgroup of the Container App's size
                       (0.25 vCPU, 0.5 GiB; needs root or a delegated cgroup); kept as
                       logs-ingestion-container
  --render-on-demand   the emulator renders throughput and logs-ingestion blobs while serving
                       them (default: rendered before the collector starts, so the figure is
                       the collector's and not the test data generator's); results are kept
                       as throughput-render-on-demand and logs-ingestion-render-on-demand
  --verbose            copy the collector's JSON log lines (level warn and up) to stderr
  --cpu-prof-dir <dir> write a V8 CPU profile of each collector process there (open it in
                       Chrome DevTools); profiling slows the collector by about a quarter
  --help               this text

Figures go to the terminal and to bench/results/<YYYY-MM-DD>.json (merged by scenario).
`;

/** Where results are written. */
const RESULTS_DIR = path.join(REPO_ROOT, "bench", "results");

interface BenchArgs {
  scenarios: string[];
  verbose: boolean;
  cpuProfileDir: string | undefined;
  records: number;
  seed: number;
  liveMinutes: number;
  drainBudget: number;
  renderOnDemand: boolean;
  container: boolean;
}

class UsageError extends Error {}

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value.replace(/_/g, ""));
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new UsageError(`${flag} must be a whole number of at least 1 (got "${value}")`);
  }
  return parsed;
}

function parseBenchArgs(argv: string[]): BenchArgs | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string" },
      records: { type: "string" },
      seed: { type: "string" },
      "live-minutes": { type: "string" },
      "drain-budget": { type: "string" },
      verbose: { type: "boolean" },
      "render-on-demand": { type: "boolean" },
      container: { type: "boolean" },
      "cpu-prof-dir": { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const names = Object.keys(SCENARIOS);
  if (values.scenario !== undefined && !names.includes(values.scenario)) {
    throw new UsageError(
      `--scenario must be one of ${names.join(", ")} (got "${values.scenario}")`,
    );
  }
  return {
    scenarios: values.scenario ? [values.scenario] : names,
    verbose: values.verbose === true,
    cpuProfileDir: values["cpu-prof-dir"] ? path.resolve(values["cpu-prof-dir"]) : undefined,
    records: positiveInt("--records", values.records, DEFAULT_BENCH_RECORDS),
    seed: positiveInt("--seed", values.seed, 1),
    liveMinutes: positiveInt("--live-minutes", values["live-minutes"], 5),
    drainBudget: positiveInt("--drain-budget", values["drain-budget"], DEFAULT_DRAIN_BUDGET),
    renderOnDemand: values["render-on-demand"] === true,
    container: values.container === true,
  };
}

/** Today's results file, with earlier scenarios of the same day kept. */
function writeResults(args: BenchArgs, results: BenchResult[], argv: string[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const file = path.join(RESULTS_DIR, `${date}.json`);
  let previous: { scenarios?: Record<string, unknown> } = {};
  try {
    previous = JSON.parse(readFileSync(file, "utf8")) as typeof previous;
  } catch {
    // No results yet today (or an unreadable file, which is replaced).
  }
  const scenarios: Record<string, unknown> = { ...(previous.scenarios ?? {}) };
  const at = new Date().toISOString();
  for (const result of results) {
    scenarios[result.scenario] = {
      at,
      command: `npm run bench -- ${argv.join(" ")}`.trim(),
      records: args.records,
      seed: args.seed,
      ...(result.error ? { error: result.error } : {}),
      figures: result.figures,
      ...(result.truth ? { truth: result.truth } : {}),
    };
  }
  writeFileSync(
    file,
    `${JSON.stringify({ machine: machineInfo(), updatedAt: at, scenarios }, null, 2)}\n`,
  );
  return file;
}

async function main(argv: string[]): Promise<number> {
  let args: BenchArgs | "help";
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n(run with --help for usage)\n`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  setEchoCollectorLogs(args.verbose);
  setCollectorCpuProfileDir(args.cpuProfileDir);
  const machine = machineInfo();
  say(
    `AuditBridge bench on ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}`,
  );
  const options: BenchOptions = {
    records: args.records,
    seed: args.seed,
    liveMinutes: args.liveMinutes,
    drainBudget: args.drainBudget,
    renderOnDemand: args.renderOnDemand,
    container: args.container,
    log: (line) => say(`  … ${line}`),
  };
  const results: BenchResult[] = [];
  for (const name of args.scenarios) {
    say(`\n== ${name}`);
    const started = performance.now();
    // Other work on the machine skews every figure; the load is recorded next to them.
    const loadBefore = loadavg()[0]!;
    let result: BenchResult;
    try {
      result = await SCENARIOS[name]!(options);
    } catch (error) {
      const message = (error as Error).message;
      result = {
        scenario: name,
        figures: {},
        lines: [`could not run: ${message}`],
        error: message,
      };
    }
    result.figures.loadAverageBefore = Math.round(loadBefore * 100) / 100;
    result.figures.loadAverageAfter = Math.round(loadavg()[0]! * 100) / 100;
    for (const line of result.lines) say(`  ${line}`);
    say(
      `  machine load (1-min average) before/after: ${result.figures.loadAverageBefore}/${result.figures.loadAverageAfter} on ${machine.cpus} cores`,
    );
    say(`  (${((performance.now() - started) / 1000).toFixed(0)} s including setup and checks)`);
    results.push(result);
  }

  say("\n== summary");
  say(
    renderTable(
      ["scenario", "expected", "delivered", "lost", "duplicated", "records/s", "peak RSS", "time"],
      results.map((r) => [
        r.scenario,
        r.truth ? formatInt(r.truth.expected) : "-",
        r.truth ? formatInt(r.truth.delivered) : "-",
        r.truth ? formatInt(r.truth.lost) : "-",
        r.truth ? formatInt(r.truth.duplicated) : "-",
        typeof r.figures.recordsPerSecond === "number"
          ? formatInt(r.figures.recordsPerSecond)
          : "-",
        typeof r.figures.peakRssMb === "number" ? `${r.figures.peakRssMb} MB` : "-",
        typeof r.figures.elapsedMs === "number"
          ? `${(r.figures.elapsedMs / 1000).toFixed(1)} s`
          : typeof r.figures.runMs === "number"
            ? `${(r.figures.runMs / 1000).toFixed(1)} s`
            : r.error
              ? "failed"
              : "-",
      ]),
    ),
  );
  const file = writeResults(args, results, argv);
  say(`\nresults: ${path.relative(process.cwd(), file)}`);
  return results.some((r) => r.error) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
