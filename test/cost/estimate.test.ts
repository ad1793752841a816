import { describe, expect, it } from "vitest";
import {
  type CostInputs,
  DEFAULT_PRICES,
  defaultBytesPerRecord,
  estimateMonthlyCost,
  runSecondsPerMonth,
} from "../../scripts/cost/estimate";
import { CostInputError, resolveCostInputs } from "../../scripts/cost/main";

function inputs(overrides: Partial<CostInputs> = {}): CostInputs {
  return {
    recordsPerDay: 1_000_000,
    mode: "always-on",
    tablePlan: "analytics",
    retentionDays: 90,
    scheduleMinutes: 5,
    cpu: 0.25,
    memoryGib: 0.5,
    prices: DEFAULT_PRICES,
    ...overrides,
  };
}

function line(estimate: ReturnType<typeof estimateMonthlyCost>, prefix: string): number {
  const found = estimate.lines.find((l) => l.item.startsWith(prefix));
  if (!found) throw new Error(`no line ${prefix}`);
  return found.monthly;
}

describe("estimateMonthlyCost", () => {
  it("bills an always-on 0.25 vCPU / 0.5 GiB container for the month above the free grant", () => {
    const estimate = estimateMonthlyCost(inputs());
    // 0.25 × 2,592,000 s = 648,000 vCPU-s; 468,000 billable × 0.000024 = 11.232.
    expect(line(estimate, "Container Apps vCPU")).toBe(11.23);
    // 0.5 × 2,592,000 = 1,296,000 GiB-s; 936,000 billable × 0.000003 = 2.808.
    expect(line(estimate, "Container Apps memory")).toBe(2.81);
  });

  it("bills Analytics ingestion by billed bytes above the free 5 GB, and retention past 31 days", () => {
    const estimate = estimateMonthlyCost(inputs());
    // 1,000,000 × 30 × 1,787 bytes = 53.61 GB; (53.61 − 5) × 2.30 = 111.803.
    expect(estimate.inputs.bytesPerRecord).toBe(1_787);
    expect(line(estimate, "Log Analytics ingestion")).toBe(111.8);
    // 59 extra days of 53.61 GB a month = 105.433 GB × 0.10 = 10.543.
    expect(line(estimate, "Log Analytics retention")).toBe(10.54);
  });

  it("bills a Basic table at its own rate without the Analytics allowance, and long-term retention past 30 days", () => {
    const estimate = estimateMonthlyCost(inputs({ tablePlan: "basic" }));
    // 53.61 GB × 0.50 = 26.805.
    expect(line(estimate, "Log Analytics ingestion")).toBe(26.81);
    // 60 extra days: 107.22 GB × 0.02 = 2.1444.
    expect(line(estimate, "Log Analytics retention")).toBe(2.14);
  });

  it("runs a scheduled job only for its start-up and the records of each run", () => {
    // A processing rate of 3,000 records per vCPU-second, whatever the price list measured.
    const prices = structuredClone(DEFAULT_PRICES);
    prices.sizing.recordsPerVcpuSecond = 3_000;
    // 8,640 runs of 20 s + (30,000,000 / 8,640 records) / (3,000 × 0.25 records/s) = 212,800 s.
    expect(runSecondsPerMonth(inputs({ mode: "scheduled", prices }))).toBeCloseTo(212_800, 6);
    // The price list's own rate: 8,640 × 20 s + 30,000,000 / (5,750 × 0.25) = 193,669.57 s.
    expect(DEFAULT_PRICES.sizing.recordsPerVcpuSecond).toBe(5_750);
    expect(runSecondsPerMonth(inputs({ mode: "scheduled" }))).toBeCloseTo(193_669.57, 1);
    const estimate = estimateMonthlyCost(inputs({ mode: "scheduled", prices }));
    expect(line(estimate, "Container Apps vCPU")).toBe(0);
    expect(line(estimate, "Container Apps memory")).toBe(0);
    // 10,000,000 a day: 8,640 × 20 s + 300,000,000 / 750 = 572,800 s → 143,200 vCPU-s, under the grant.
    const busy = estimateMonthlyCost(
      inputs({ mode: "scheduled", recordsPerDay: 10_000_000, prices }),
    );
    expect(line(busy, "Container Apps vCPU")).toBe(0);
    expect(line(busy, "Container Apps memory")).toBe(0);
  });

  it("adds the lines up to the total and takes prices and sizes from what it is given", () => {
    const prices = structuredClone(DEFAULT_PRICES);
    prices.logAnalytics.analyticsIngestionPerGb = 1;
    prices.logAnalytics.freeGbPerMonth = 0;
    const estimate = estimateMonthlyCost(
      inputs({ prices, bytesPerRecord: 1_000, recordsPerDay: 100_000 }),
    );
    // 100,000 × 30 × 1,000 bytes = 3 GB at 1 a GB.
    expect(line(estimate, "Log Analytics ingestion")).toBe(3);
    const sum = estimate.lines.reduce((total, l) => total + l.monthly, 0);
    expect(estimate.totalMonthly).toBeCloseTo(sum, 1);
  });

  it("takes its default bytes per record from the measured record size plus the other columns", () => {
    expect(defaultBytesPerRecord()).toBe(
      DEFAULT_PRICES.sizing.recordBytes + DEFAULT_PRICES.sizing.otherColumnsBytes,
    );
  });

  it("names the date and region of its prices", () => {
    const estimate = estimateMonthlyCost(inputs());
    expect(estimate.pricesAsOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(estimate.region).toBe(DEFAULT_PRICES.region);
  });
});

describe("resolveCostInputs", () => {
  it("overrides prices from flags without touching the shipped data", () => {
    const command = resolveCostInputs(["--records-per-day", "5000", "--price-ingestion-gb", "3.1"]);
    if (command === "help") throw new Error("help");
    expect(command.inputs.prices.logAnalytics.analyticsIngestionPerGb).toBe(3.1);
    expect(DEFAULT_PRICES.logAnalytics.analyticsIngestionPerGb).not.toBe(3.1);
  });

  const bad: [string, string[], RegExp][] = [
    ["no record count", [], /--records-per-day is required/],
    ["a negative count", ["--records-per-day", "-5"], /--records-per-day: must be a whole number/],
    [
      "an unknown mode",
      ["--records-per-day", "1", "--mode", "cron"],
      /--mode: must be one of always-on, scheduled/,
    ],
    [
      "a region without prices",
      ["--records-per-day", "1", "--region", "westeurope"],
      /--region: the data file has eastus prices/,
    ],
    [
      "a bad price",
      ["--records-per-day", "1", "--price-vcpu-second", "cheap"],
      /--price-vcpu-second: must be a number/,
    ],
  ];
  for (const [what, argv, message] of bad) {
    it(`refuses ${what} with one line naming the flag`, () => {
      expect(() => resolveCostInputs(argv)).toThrow(CostInputError);
      expect(() => resolveCostInputs(argv)).toThrow(message);
    });
  }
});
