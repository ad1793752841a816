/**
 * `npm run cost -- --records-per-day <n>`: a monthly estimate for one tenant's pipeline, as a
 * table or `--json`; exit 2 on bad input. scripts/common/cli.ts runs it and exits.
 */
import { Command, CommanderError, Option } from "commander";
import { type CommandDefinition, runCommandMain } from "../common/cli";
import { CommandInputError } from "../common/errors";
import {
  type CollectorMode,
  type CostEstimate,
  type CostInputs,
  DEFAULT_CPU,
  DEFAULT_MEMORY_GIB,
  DEFAULT_PRICES,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_SCHEDULE_MINUTES,
  estimateMonthlyCost,
  type PriceData,
  type TablePlan,
} from "./estimate";

/** Version of the `--json` output. */
export const COST_SCHEMA_VERSION = 1;

/** Bad input; main prints the one line and exits 2. */
export class CostInputError extends CommandInputError {
  override readonly name: string = "CostInputError";
}

const EXAMPLE = `Example:
  npm run cost -- --records-per-day 250000
  npm run cost -- --records-per-day 10000000 --mode scheduled --table-plan basic --json

`;

const AFTER_HELP = `
Prices are list prices for one region on the date the data file names (scripts/cost/prices.json);
pass --price-* flags for yours. The estimate prints every figure it used.
`;

/** Price flags: flag name → where it goes in the price data. */
const PRICE_FLAGS = {
  priceVcpuSecond: ["containerApps", "vcpuSecond"],
  priceGibSecond: ["containerApps", "gibSecond"],
  priceIngestionGb: ["logAnalytics", "analyticsIngestionPerGb"],
  priceBasicIngestionGb: ["logAnalytics", "basicIngestionPerGb"],
  priceRetentionGbMonth: ["logAnalytics", "interactiveRetentionPerGbMonth"],
} as const;

function buildProgram(): Command {
  const program = new Command("cost")
    .description("Estimate the monthly Azure cost of one tenant's AuditBridge pipeline.")
    .option("--records-per-day <n>", "audit records the tenant produces a day (required)")
    .addOption(
      new Option("--mode <mode>", "collector mode")
        .choices(["always-on", "scheduled"])
        .default("always-on"),
    )
    .addOption(
      new Option("--table-plan <plan>", "Log Analytics table plan")
        .choices(["analytics", "basic"])
        .default("analytics"),
    )
    .option("--region <name>", `region the prices are for (data file: ${DEFAULT_PRICES.region})`)
    .option("--retention-days <days>", `workspace retention (default ${DEFAULT_RETENTION_DAYS})`)
    .option(
      "--schedule-minutes <n>",
      `scheduled mode's interval (default ${DEFAULT_SCHEDULE_MINUTES})`,
    )
    .option("--bytes-per-record <n>", "billed bytes per row (default: measured, see the output)")
    .option("--price-vcpu-second <usd>", "Container Apps price per vCPU-second")
    .option("--price-gib-second <usd>", "Container Apps price per GiB-second")
    .option("--price-ingestion-gb <usd>", "Analytics ingestion price per GB")
    .option("--price-basic-ingestion-gb <usd>", "Basic ingestion price per GB")
    .option("--price-retention-gb-month <usd>", "interactive retention price per GB-month")
    .option("--json", "print JSON instead of a table");
  program.exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return program;
}

/** `--help` text, starting with an example. */
export function helpText(): string {
  return `${EXAMPLE}${buildProgram().helpInformation()}${AFTER_HELP}`;
}

function number(
  value: string | undefined,
  flag: string,
  min: number,
  integer: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value.replace(/_/g, ""));
  if (!Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
    throw new CostInputError(
      `${flag}: must be ${integer ? "a whole number" : "a number"} of at least ${min}`,
    );
  }
  return parsed;
}

export interface CostCommand {
  inputs: CostInputs;
  json: boolean;
}

/** Parses argv into the estimate's inputs; "help" for --help. */
export function resolveCostInputs(argv: readonly string[]): CostCommand | "help" {
  const program = buildProgram();
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help")
        return "help";
      const flag = /'(--[a-z-]+)/.exec(error.message)?.[1];
      if (error.code === "commander.invalidArgument" && flag) {
        const choices = error.message.split("Allowed choices are ")[1]?.replace(/\.\s*$/, "");
        throw new CostInputError(`${flag}: must be one of ${choices ?? "the listed values"}`);
      }
      if (error.code === "commander.unknownOption") {
        throw new CostInputError(`unknown flag ${flag ?? ""}: see npm run cost -- --help`);
      }
      throw new CostInputError(
        error.message.replace(/^error:\s*/, "").split("\n")[0] ?? "invalid command line",
      );
    }
    throw error;
  }
  const flags = program.opts<Record<string, string | boolean | undefined>>();
  const recordsPerDay = number(
    flags.recordsPerDay as string | undefined,
    "--records-per-day",
    0,
    true,
  );
  if (recordsPerDay === undefined) {
    throw new CostInputError(
      "--records-per-day is required: the audit records the tenant produces a day",
    );
  }
  const region = flags.region as string | undefined;
  if (region !== undefined && region.toLowerCase().replace(/\s+/g, "") !== DEFAULT_PRICES.region) {
    throw new CostInputError(
      `--region: the data file has ${DEFAULT_PRICES.region} prices; for ${region}, pass that region's prices with the --price-* flags and --region ${DEFAULT_PRICES.region}`,
    );
  }
  const prices: PriceData = structuredClone(DEFAULT_PRICES);
  for (const [flag, [section, key]] of Object.entries(PRICE_FLAGS)) {
    const value = number(
      flags[flag] as string | undefined,
      `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      0,
      false,
    );
    if (value !== undefined) (prices[section] as Record<string, number>)[key] = value;
  }
  const bytesPerRecord = number(
    flags.bytesPerRecord as string | undefined,
    "--bytes-per-record",
    1,
    true,
  );
  return {
    json: flags.json === true,
    inputs: {
      recordsPerDay,
      mode: flags.mode as CollectorMode,
      tablePlan: flags.tablePlan as TablePlan,
      retentionDays:
        number(flags.retentionDays as string | undefined, "--retention-days", 4, true) ??
        DEFAULT_RETENTION_DAYS,
      scheduleMinutes:
        number(flags.scheduleMinutes as string | undefined, "--schedule-minutes", 1, true) ??
        DEFAULT_SCHEDULE_MINUTES,
      cpu: DEFAULT_CPU,
      memoryGib: DEFAULT_MEMORY_GIB,
      ...(bytesPerRecord !== undefined ? { bytesPerRecord } : {}),
      prices,
    },
  };
}

/** The estimate as a table for a person. */
export function renderTable(estimate: CostEstimate): string {
  const money = (value: number) => `${estimate.currency} ${value.toFixed(2)}`;
  const width = Math.max(...estimate.lines.map((line) => line.item.length));
  const out = [
    `Monthly estimate: ${estimate.inputs.recordsPerDay.toLocaleString("en-US")} records a day, ${estimate.inputs.mode}, ${estimate.inputs.tablePlan} table plan`,
    `(${estimate.region} list prices of ${estimate.pricesAsOf}; ${estimate.inputs.bytesPerRecord} billed bytes per record)`,
    "",
  ];
  for (const line of estimate.lines) {
    out.push(`  ${line.item.padEnd(width)}  ${money(line.monthly).padStart(14)}   ${line.basis}`);
  }
  out.push(`  ${"Total".padEnd(width)}  ${money(estimate.totalMonthly).padStart(14)}`, "");
  return `${out.join("\n")}\n`;
}

/** `npm run cost` as a user command. */
export const costCommand: CommandDefinition<CostCommand> = {
  name: "cost",
  resolve: (argv) => resolveCostInputs(argv),
  help: helpText,
  async run(command) {
    const estimate = estimateMonthlyCost(command.inputs);
    return {
      output: command.json
        ? `${JSON.stringify({ schemaVersion: COST_SCHEMA_VERSION, ...estimate }, null, 2)}\n`
        : renderTable(estimate),
      exitCode: 0,
    };
  },
};

if (require.main === module) runCommandMain(costCommand);
