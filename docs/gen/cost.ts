/**
 * docs/cost.md: what a tenant's pipeline costs a month, computed by the same estimate
 * `npm run cost` prints (scripts/cost/estimate.ts over scripts/cost/prices.json).
 */

import {
  DEFAULT_CPU,
  DEFAULT_MEMORY_GIB,
  DEFAULT_PRICES,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_SCHEDULE_MINUTES,
  defaultBytesPerRecord,
} from "../../scripts/cost/estimate";
import { ALL_COST_COLUMNS, costTableLines } from "./lib/costTable";

export const PAGE_PATH = "docs/cost.md";

export function render(): string {
  const table = costTableLines(ALL_COST_COLUMNS);
  const sizing = DEFAULT_PRICES.sizing;
  const lines = [
    "<!-- Generated from scripts/cost/estimate.ts and scripts/cost/prices.json by docs/gen/cost.ts. Do not edit: run `npm run docs`. -->",
    "",
    "# Cost",
    "",
    `Monthly estimates in ${DEFAULT_PRICES.currency} for one tenant, at ${DEFAULT_PRICES.region} pay-as-you-go list prices of`,
    `${DEFAULT_PRICES.asOf}, with a ${DEFAULT_RETENTION_DAYS}-day workspace retention and the collector's`,
    `${DEFAULT_CPU} vCPU / ${DEFAULT_MEMORY_GIB} GiB container; scheduled mode runs every ${DEFAULT_SCHEDULE_MINUTES} minutes.`,
    "Compute is the Container Apps part, after the monthly free grant (which is per subscription, so",
    "several tenants in one subscription share it). Run `npm run cost -- --records-per-day <n>` for",
    "your volume, plan and prices; it prints every line and how it was reached.",
    "",
    ...table,
    "",
    "## What the figures rest on",
    "",
    `- **Bytes per record**: ${defaultBytesPerRecord()} billed bytes per row, the ${sizing.recordBytes}-byte ${sizing.recordBytesNote}, plus ${sizing.otherColumnsBytes} bytes of ${sizing.otherColumnsBytesNote}. Log Analytics bills the string form of the stored columns ([how billed size is calculated](https://learn.microsoft.com/en-us/azure/azure-monitor/logs/cost-logs#data-size-calculation)); pass \`--bytes-per-record\` when your tenant's mix differs.`,
    `- **Processing rate** (scheduled mode): ${sizing.recordsPerVcpuSecond.toLocaleString("en-US")} records per vCPU-second, ${sizing.recordsPerVcpuSecondNote}; each run also pays ${sizing.jobStartupSeconds} s of ${sizing.jobStartupSecondsNote}.`,
    "- **Log Analytics**: Analytics ingestion after the 5 GB monthly free allowance (per billing",
    "  account), 31 days of retention included, then interactive retention per GB-month; Basic",
    "  ingestion at its own rate, 30 days included, then long-term retention.",
    "- **Storage and Key Vault**: the checkpoint blob's operations and ledger, and the secret reads;",
    "  cents a month.",
    "- Prices and their sources are in `scripts/cost/prices.json`; every price is a `--price-…` flag.",
    "",
    "## Choosing a mode and a table plan",
    "",
    "- **Scheduled** (a Container Apps job on a cron, `run --once` each time) costs almost nothing",
    "  for compute: most tenants stay inside the free grant. Records arrive up to one interval later",
    "  than with **always-on**, which keeps a 0.25 vCPU container running the whole month. The",
    "  stack key `auditbridge:collectorMode` picks the mode (`auditbridge:collectorSchedule` the",
    "  cron; [choosing a collector mode](deploying.md#choosing-a-collector-mode)).",
    "- **Basic** tables cost about a fifth per GB to ingest, but their queries read one table",
    "  without functions or joins, over the last 30 days, and are billed by data scanned (not in",
    "  these figures; `npm run verify` scans its `--since` window once a run). Sentinel's analytics",
    "  rules need **Analytics**. The stack key `auditbridge:tablePlan` picks the plan; with `Basic`",
    "  the table keeps rows for the workspace retention (30 days interactive, the rest long-term),",
    "  as estimated here, and `auditbridge:sentinel` must stay off",
    "  ([choosing a table plan](deploying.md#choosing-a-table-plan),",
    "  [Table plans](https://learn.microsoft.com/en-us/azure/azure-monitor/logs/data-platform-logs#table-plans)).",
    "",
  ];
  return `${lines.join("\n")}`;
}
