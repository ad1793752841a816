import { describe, expect, it } from "vitest";
import {
  DEFAULT_COLLECTOR_SCHEDULE,
  describeGap,
  MAX_SCHEDULE_GAP_IN_MS,
  MIN_SCHEDULE_GAP_IN_MS,
  parseCronSchedule,
} from "../../domain/cron";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function gaps(expression: string): { shortest: number; longest: number } {
  const parsed = parseCronSchedule(expression);
  if (!parsed.ok) throw new Error(parsed.problem);
  return { shortest: parsed.value.shortestGapInMs, longest: parsed.value.longestGapInMs };
}

function problem(expression: string): string {
  const parsed = parseCronSchedule(expression);
  if (parsed.ok) throw new Error(`${expression} was accepted`);
  return parsed.problem;
}

describe("parseCronSchedule", () => {
  it("measures the default schedule as every 5 minutes", () => {
    expect(gaps(DEFAULT_COLLECTOR_SCHEDULE)).toEqual({ shortest: 5 * MINUTE, longest: 5 * MINUTE });
  });

  it.each([
    ["*/15 * * * *", 15 * MINUTE, 15 * MINUTE],
    ["0 * * * *", HOUR, HOUR],
    ["0 */6 * * *", 6 * HOUR, 6 * HOUR],
    ["30 2 * * *", 24 * HOUR, 24 * HOUR],
    ["0,10,30 * * * *", 10 * MINUTE, 30 * MINUTE],
    ["0 8-17 * * *", HOUR, 15 * HOUR],
    ["*/10 0-23/2 * * *", 10 * MINUTE, 70 * MINUTE],
    ["  */5   *  * * *  ", 5 * MINUTE, 5 * MINUTE],
  ])("measures %s", (expression, shortest, longest) => {
    expect(gaps(expression)).toEqual({ shortest, longest });
  });

  it("normalises the spacing of the expression", () => {
    const parsed = parseCronSchedule("  */5   *  * * *  ");
    expect(parsed.ok && parsed.value.expression).toBe("*/5 * * * *");
  });

  it("treats day of week 7 as Sunday and matches either day field when both are restricted", () => {
    // Sundays only: a week apart.
    expect(problem("0 0 * * 7")).toMatch(/^leaves 7 days between runs/);
    // Every day of the month OR Monday: still daily.
    expect(gaps("0 0 1-31 * 1").longest).toBe(24 * HOUR);
    // A star-step day of week is AND-ed with the day of month, as in classic cron.
    expect(problem("0 0 */2 * */1")).toMatch(/^leaves 2 days between runs/);
  });

  it.each([
    ["", /^must be a cron expression with 5 fields .* \(got 0 fields\)$/],
    ["*/5 * * *", /\(got 4 fields\)$/],
    ["0 */5 * * * *", /\(got 6 fields\)$/],
    ["60 * * * *", /^field 1 \(minute\) has "60", outside 0-59$/],
    ["0 24 * * *", /^field 2 \(hour\) has "24", outside 0-23$/],
    ["0 0 0 * *", /^field 3 \(day of month\) has "0", outside 1-31$/],
    ["0 0 * 13 *", /^field 4 \(month\) has "13", outside 1-12$/],
    ["0 0 * * 8", /^field 5 \(day of week\) has "8", outside 0-7, Sunday = 0 or 7$/],
    [
      "0 0 * * MON",
      /^field 5 \(day of week\) has "MON": use numbers \(0-7, Sunday = 0 or 7\), not names$/,
    ],
    ["0 0 * JAN *", /^field 4 \(month\) has "JAN": use numbers/],
    ["*/0 * * * *", /^field 1 \(minute\) has the step "\/0"; use 1 to 59$/],
    ["*/x * * * *", /^field 1 \(minute\) has the step "\/x"/],
    ["5/10 * * * *", /^field 1 \(minute\) has "5\/10": write a step as \*\/n or a-b\/n$/],
    ["30-10 * * * *", /^field 1 \(minute\) has the backwards range "30-10"$/],
    ["0 0 ? * *", /^field 3 \(day of month\) has "\?", which is not a value, range or step$/],
    ["0 0 L * *", /^field 3 \(day of month\) has "L": use numbers/],
    ["1,,2 * * * *", /^field 1 \(minute\) has "", which is not a value/],
    ["*/5/2 * * * *", /which is not a value, range or step$/],
    ["0 0 30 2 *", /^never runs \(no date matches 0 0 30 2 \*\)$/],
  ])("refuses %j", (expression, message) => {
    expect(problem(expression)).toMatch(message);
  });

  it("refuses runs closer together than the minimum, naming the gap", () => {
    expect(MIN_SCHEDULE_GAP_IN_MS).toBe(5 * MINUTE);
    expect(problem("* * * * *")).toBe(
      "runs 1 minute apart at times; runs must be at least 5 minutes apart (for fresher data use collectorMode always-on)",
    );
    expect(problem("0,3 * * * *")).toMatch(/^runs 3 minutes apart/);
    expect(gaps("0,5 * * * *").shortest).toBe(5 * MINUTE);
  });

  it("refuses schedules that leave more than a day between runs", () => {
    expect(MAX_SCHEDULE_GAP_IN_MS).toBe(24 * HOUR);
    expect(problem("0 0 * * 1-5")).toMatch(/^leaves 3 days between runs; at most 24 hours/);
    expect(problem("0 0 1 * *")).toMatch(/^leaves 31 days between runs/);
    expect(problem("0 0 29 2 *")).toMatch(/^leaves more than a year between runs/);
    expect(problem("0 0 1-30 * *")).toMatch(/^leaves 2 days between runs/);
  });
});

describe("describeGap", () => {
  it.each([
    [MINUTE, "1 minute"],
    [90 * MINUTE, "90 minutes"],
    [2 * HOUR, "2 hours"],
    [48 * HOUR, "2 days"],
    [Number.POSITIVE_INFINITY, "more than a year"],
  ])("%d ms reads %s", (ms, text) => {
    expect(describeGap(ms)).toBe(text);
  });
});
