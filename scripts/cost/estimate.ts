/**
 * A monthly cost estimate for one tenant's pipeline: pure arithmetic over the list prices and
 * measured sizes in prices.json, so every figure can be checked by hand and by a test.
 */
import PRICE_DATA from "./prices.json";

export type PriceData = typeof PRICE_DATA;
export type CollectorMode = "always-on" | "scheduled";
export type TablePlan = "analytics" | "basic";

/** The data file as shipped: list prices with their date and sources, and measured sizes. */
export const DEFAULT_PRICES: PriceData = PRICE_DATA;

/** A month, as the estimate counts it: 30 days. */
export const SECONDS_PER_MONTH = 30 * 24 * 60 * 60;
const DAYS_PER_MONTH = 30;
/** Log Analytics bills in GB of 10^9 bytes. */
const BYTES_PER_GB = 1e9;
/** The collector's container size (components/collectorService.ts). */
export const DEFAULT_CPU = 0.25;
export const DEFAULT_MEMORY_GIB = 0.5;
/** The scheduled mode's default cron interval. */
export const DEFAULT_SCHEDULE_MINUTES = 5;
/** The stack's default workspace retention. */
export const DEFAULT_RETENTION_DAYS = 90;
/** Always-on: one poll a minute per content type at the live edge (AUDIT_POLL_INTERVAL). */
const ALWAYS_ON_POLLS_PER_MONTH = SECONDS_PER_MONTH / 60;
/**
 * Key Vault reads of the collector's secret: Container Apps re-reads referenced secrets about
 * every 30 minutes; a job reads it at every execution.
 * https://learn.microsoft.com/en-us/azure/container-apps/manage-secrets#reference-secret-from-key-vault
 */
const KEY_VAULT_REFRESHES_PER_MONTH = (SECONDS_PER_MONTH / 1800) | 0;
/** Ledger bytes per record id kept in the blob state (id, time, index overhead). */
const LEDGER_BYTES_PER_RECORD = 64;
/** The ledger keeps ids for the Management API's 7-day horizon. */
const LEDGER_HORIZON_DAYS = 7;

export interface CostInputs {
  recordsPerDay: number;
  mode: CollectorMode;
  tablePlan: TablePlan;
  retentionDays: number;
  scheduleMinutes: number;
  cpu: number;
  memoryGib: number;
  /** Billed bytes per row; default: measured record size plus the other columns. */
  bytesPerRecord?: number;
  prices: PriceData;
}

export interface CostLine {
  item: string;
  /** How the figure was reached, in words a person can check. */
  basis: string;
  monthly: number;
}

export interface CostEstimate {
  inputs: Omit<CostInputs, "prices"> & { bytesPerRecord: number };
  pricesAsOf: string;
  currency: string;
  region: string;
  lines: CostLine[];
  totalMonthly: number;
}

/** Billed bytes of one row when not given: the record as received plus the other columns. */
export function defaultBytesPerRecord(prices: PriceData = DEFAULT_PRICES): number {
  return prices.sizing.recordBytes + prices.sizing.otherColumnsBytes;
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Seconds the collector's container runs in a month. */
export function runSecondsPerMonth(inputs: CostInputs): number {
  if (inputs.mode === "always-on") return SECONDS_PER_MONTH;
  const runsPerMonth = (DAYS_PER_MONTH * 24 * 60) / inputs.scheduleMinutes;
  const recordsPerRun = (inputs.recordsPerDay * DAYS_PER_MONTH) / runsPerMonth;
  const workSeconds = recordsPerRun / (inputs.prices.sizing.recordsPerVcpuSecond * inputs.cpu);
  return runsPerMonth * (inputs.prices.sizing.jobStartupSeconds + workSeconds);
}

/** The estimate, line by line. */
export function estimateMonthlyCost(inputs: CostInputs): CostEstimate {
  const { prices } = inputs;
  const bytesPerRecord = inputs.bytesPerRecord ?? defaultBytesPerRecord(prices);
  const lines: CostLine[] = [];

  // Container Apps: vCPU-seconds and GiB-seconds above the monthly free grant.
  const seconds = runSecondsPerMonth(inputs);
  const vcpuSeconds = seconds * inputs.cpu;
  const gibSeconds = seconds * inputs.memoryGib;
  const billableVcpu = Math.max(0, vcpuSeconds - prices.containerApps.freeVcpuSecondsPerMonth);
  const billableGib = Math.max(0, gibSeconds - prices.containerApps.freeGibSecondsPerMonth);
  lines.push({
    item: "Container Apps vCPU",
    basis: `${Math.round(vcpuSeconds).toLocaleString("en-US")} vCPU-s (${inputs.cpu} vCPU × ${Math.round(seconds).toLocaleString("en-US")} s), ${prices.containerApps.freeVcpuSecondsPerMonth.toLocaleString("en-US")} free`,
    monthly: billableVcpu * prices.containerApps.vcpuSecond,
  });
  lines.push({
    item: "Container Apps memory",
    basis: `${Math.round(gibSeconds).toLocaleString("en-US")} GiB-s (${inputs.memoryGib} GiB), ${prices.containerApps.freeGibSecondsPerMonth.toLocaleString("en-US")} free`,
    monthly: billableGib * prices.containerApps.gibSecond,
  });

  // Log Analytics: ingestion by table plan, then retention past what the plan includes.
  const gbPerMonth = (inputs.recordsPerDay * DAYS_PER_MONTH * bytesPerRecord) / BYTES_PER_GB;
  const la = prices.logAnalytics;
  const ingestionPerGb =
    inputs.tablePlan === "analytics" ? la.analyticsIngestionPerGb : la.basicIngestionPerGb;
  // The monthly free allowance is for Analytics data (per billing account, so shared).
  const freeGb = inputs.tablePlan === "analytics" ? la.freeGbPerMonth : 0;
  const billableGb = Math.max(0, gbPerMonth - freeGb);
  lines.push({
    item: `Log Analytics ingestion (${inputs.tablePlan})`,
    basis: `${round(gbPerMonth, 3)} GB (${bytesPerRecord} bytes per record)${freeGb > 0 ? `, ${freeGb} GB free per billing account` : ""}`,
    monthly: billableGb * ingestionPerGb,
  });
  const includedDays =
    inputs.tablePlan === "analytics"
      ? la.analyticsIncludedRetentionDays
      : la.basicIncludedRetentionDays;
  const extraDays = Math.max(0, inputs.retentionDays - includedDays);
  // In steady state the data older than the included days fills `extraDays` worth of months.
  const retainedGb = (gbPerMonth * extraDays) / DAYS_PER_MONTH;
  const retentionPerGb =
    inputs.tablePlan === "analytics"
      ? la.interactiveRetentionPerGbMonth
      : la.longTermRetentionPerGbMonth;
  lines.push({
    item: "Log Analytics retention",
    basis: `${round(retainedGb, 3)} GB kept past the ${includedDays} included days (retention ${inputs.retentionDays} days)`,
    monthly: retainedGb * retentionPerGb,
  });

  // Blob state: the ledger of delivered ids and the operations of polls and commits.
  const polls =
    inputs.mode === "always-on"
      ? ALWAYS_ON_POLLS_PER_MONTH
      : (DAYS_PER_MONTH * 24 * 60) / inputs.scheduleMinutes;
  const operations = polls * prices.sizing.statePollOperations;
  const ledgerGb =
    (inputs.recordsPerDay * LEDGER_HORIZON_DAYS * LEDGER_BYTES_PER_RECORD) / BYTES_PER_GB;
  lines.push({
    item: "Storage (checkpoint state)",
    basis: `${Math.round(operations).toLocaleString("en-US")} operations, ${round(ledgerGb, 3)} GB ledger`,
    monthly:
      (operations / 2 / 10_000) *
        (prices.storage.writeOperationsPer10k + prices.storage.readOperationsPer10k) +
      ledgerGb * prices.storage.hotLrsPerGbMonth,
  });

  // Key Vault: secret reads.
  const vaultOperations = inputs.mode === "always-on" ? KEY_VAULT_REFRESHES_PER_MONTH : polls;
  lines.push({
    item: "Key Vault",
    basis: `${Math.round(vaultOperations).toLocaleString("en-US")} secret reads`,
    monthly: (vaultOperations / 10_000) * prices.keyVault.operationsPer10k,
  });

  const rounded = lines.map((line) => ({ ...line, monthly: round(line.monthly) }));
  return {
    inputs: {
      recordsPerDay: inputs.recordsPerDay,
      mode: inputs.mode,
      tablePlan: inputs.tablePlan,
      retentionDays: inputs.retentionDays,
      scheduleMinutes: inputs.scheduleMinutes,
      cpu: inputs.cpu,
      memoryGib: inputs.memoryGib,
      bytesPerRecord,
    },
    pricesAsOf: prices.asOf,
    currency: prices.currency,
    region: prices.region,
    lines: rounded,
    totalMonthly: round(lines.reduce((sum, line) => sum + line.monthly, 0)),
  };
}
