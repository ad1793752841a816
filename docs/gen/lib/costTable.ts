/**
 * The monthly cost table for 10k, 1M and 10M records a day, computed by the estimate
 * `npm run cost` prints; docs/cost.md and the README's "Cost" section show it.
 */
import {
  type CollectorMode,
  DEFAULT_CPU,
  DEFAULT_MEMORY_GIB,
  DEFAULT_PRICES,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_SCHEDULE_MINUTES,
  estimateMonthlyCost,
  type TablePlan,
} from "../../../scripts/cost/estimate";
import { markdownTable } from "./markdown";

/** The volumes of the table, records a day. */
export const COST_TABLE_VOLUMES = [10_000, 1_000_000, 10_000_000] as const;

/** One column of the table: a mode and a table plan. */
export interface CostColumn {
  mode: CollectorMode;
  tablePlan: TablePlan;
}

/** Every mode with both plans. */
export const ALL_COST_COLUMNS: readonly CostColumn[] = [
  { mode: "always-on", tablePlan: "analytics" },
  { mode: "scheduled", tablePlan: "analytics" },
  { mode: "always-on", tablePlan: "basic" },
  { mode: "scheduled", tablePlan: "basic" },
];

function cell(recordsPerDay: number, column: CostColumn): string {
  const estimate = estimateMonthlyCost({
    recordsPerDay,
    mode: column.mode,
    tablePlan: column.tablePlan,
    retentionDays: DEFAULT_RETENTION_DAYS,
    scheduleMinutes: DEFAULT_SCHEDULE_MINUTES,
    cpu: DEFAULT_CPU,
    memoryGib: DEFAULT_MEMORY_GIB,
    prices: DEFAULT_PRICES,
  });
  const compute = estimate.lines
    .filter((line) => line.item.startsWith("Container Apps"))
    .reduce((sum, line) => sum + line.monthly, 0);
  return `${estimate.totalMonthly.toFixed(2)} (compute ${compute.toFixed(2)})`;
}

function columnTitle(column: CostColumn): string {
  return `${column.mode}, ${column.tablePlan === "analytics" ? "Analytics" : "Basic"}`;
}

/** The table's Markdown lines: monthly totals in the price list's currency, compute apart. */
export function costTableLines(columns: readonly CostColumn[]): string[] {
  return markdownTable(
    ["records a day", ...columns.map(columnTitle)],
    COST_TABLE_VOLUMES.map((volume) => [
      volume.toLocaleString("en-US"),
      ...columns.map((column) => cell(volume, column)),
    ]),
  );
}
