/**
 * `npm run test:chaos`: crashes, stops and starves the real collector on a seeded schedule and
 * checks every record against the emulator's ground truth. `--ci` runs the short version (small
 * backlogs, a fixed seed, a few minutes on two cores).
 *
 * The last line is `chaos: N passed, M failed`. Exit codes: 0 all passed, 1 a scenario failed
 * (a record lost, or duplicated where the sink promises none), 2 bad arguments or a machine
 * that cannot make the faults.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  CHAOS_SCENARIOS,
  type ChaosOptions,
  type ChaosResult,
  CI_SIZES,
  FULL_SIZES,
  faultToolsAvailable,
} from "./lib/chaosScenarios";
import { setEchoCollectorLogs } from "./lib/collector";
import { formatInt, machineInfo, renderTable, say } from "./lib/common";

const HELP = `Example:
  npm run test:chaos -- --ci

Usage: npm run test:chaos -- [--ci] [--scenario <name>] [--seed <n>]

  --ci               the short version: small backlogs, fixed seed ${1}, a few minutes
  --scenario <name>  run one scenario: ${Object.keys(CHAOS_SCENARIOS).join(", ")}
  --seed <n>         seed of the emulator and the fault schedule (default 1)
  --verbose          copy the collectors' JSON log lines (level warn and up) to stderr
  --help             this text

Needs root on ext4 (chattr +i) and prlimit: see README.md, "Benchmarks and the chaos suite".
`;

/** The CI run's seed never changes, so a CI failure reproduces locally with --ci. */
const CI_SEED = 1;

interface ChaosArgs {
  ci: boolean;
  verbose: boolean;
  scenarios: string[];
  seed: number;
}

function parseChaosArgs(argv: string[]): ChaosArgs | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      ci: { type: "boolean" },
      scenario: { type: "string" },
      seed: { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const names = Object.keys(CHAOS_SCENARIOS);
  if (values.scenario !== undefined && !names.includes(values.scenario)) {
    throw new Error(`--scenario must be one of ${names.join(", ")} (got "${values.scenario}")`);
  }
  let seed = CI_SEED;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 1) {
      throw new Error(`--seed must be a whole number of at least 1 (got "${values.seed}")`);
    }
    if (values.ci && seed !== CI_SEED) throw new Error("--ci uses the fixed seed 1; drop --seed");
  }
  return {
    ci: values.ci === true,
    verbose: values.verbose === true,
    scenarios: values.scenario ? [values.scenario] : names,
    seed,
  };
}

async function main(argv: string[]): Promise<number> {
  let args: ChaosArgs | "help";
  try {
    args = parseChaosArgs(argv);
  } catch (error) {
    process.stderr.write(`chaos: ${(error as Error).message}\n(run with --help for usage)\n`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const probeDir = mkdtempSync(path.join(tmpdir(), "auditbridge-chaos-probe-"));
  const missing = faultToolsAvailable(probeDir);
  rmSync(probeDir, { recursive: true, force: true });
  if (missing) {
    process.stderr.write(`chaos: ${missing}\n`);
    return 2;
  }

  setEchoCollectorLogs(args.verbose);
  const machine = machineInfo();
  const sizes = args.ci ? CI_SIZES : FULL_SIZES;
  say(
    `AuditBridge chaos suite (${args.ci ? "CI" : "full"} version, seed ${args.seed}) on ${machine.cpus} cores, ${machine.memoryGb} GB, Node ${machine.node}`,
  );
  const options: ChaosOptions = {
    seed: args.seed,
    sizes,
    log: (line) => say(`  … ${line}`),
  };
  const results: ChaosResult[] = [];
  for (const name of args.scenarios) {
    say(`\n== ${name}`);
    const result = await CHAOS_SCENARIOS[name]!(options);
    for (const note of result.notes) say(`  ${note}`);
    for (const failure of result.failures) say(`  FAIL: ${failure}`);
    say(`  ${result.passed ? "PASS" : "FAIL"} in ${(result.elapsedMs / 1000).toFixed(1)} s`);
    results.push(result);
  }

  say("");
  say(
    renderTable(
      ["scenario", "expected", "delivered", "lost", "duplicated", "time", "result"],
      results.map((r) => [
        r.scenario,
        formatInt(r.expected),
        formatInt(r.delivered),
        formatInt(r.lost),
        formatInt(r.duplicated),
        `${(r.elapsedMs / 1000).toFixed(1)} s`,
        r.passed ? "pass" : "FAIL",
      ]),
    ),
  );
  const passed = results.filter((r) => r.passed).length;
  const failed = results.length - passed;
  say(`chaos: ${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chaos: failed: ${(error as Error).message}\n`);
    say("chaos: 0 passed, 1 failed");
    process.exitCode = 1;
  },
);
