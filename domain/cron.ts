/**
 * The schedule of a scheduled collector (a Container Apps Job): a standard five-field cron
 * expression, evaluated in UTC, checked field by field and for the gaps it leaves between runs.
 * Container Apps jobs take "the standard cron expression format with five fields for minute,
 * hour, day of month, month, and day of week", in UTC:
 * https://learn.microsoft.com/azure/container-apps/jobs#scheduled-jobs
 *
 * Written here rather than taken from a cron library: the stack check and verify need the
 * shortest and longest gap between runs, which cron libraries do not report (they step through
 * next dates one by one), and the grammar Container Apps documents is small. Only numbers are
 * accepted (no MON or JAN names, no `?`, `L`, `W` or `#` extensions): Microsoft documents none
 * of them for jobs, and a schedule Azure refuses would only fail at `pulumi up`.
 */

/** Default schedule: every 5 minutes. */
export const DEFAULT_COLLECTOR_SCHEDULE = "*/5 * * * *";

/**
 * Runs closer together than this are refused. Each execution starts a container, signs in and
 * lists every content type before it delivers anything, and the Management Activity API makes
 * new content available minutes after the activity at best; more frequent runs buy no
 * freshness and spend the tenant's request budget. For fresher data, run the collector always-on.
 */
export const MIN_SCHEDULE_GAP_IN_MS = 5 * 60 * 1000;

/**
 * Runs further apart than this are refused. The Management Activity API keeps content for 7
 * days; a schedule that runs at least daily leaves days for failed runs to be retried before
 * anything expires.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content
 */
export const MAX_SCHEDULE_GAP_IN_MS = 24 * 60 * 60 * 1000;

/** A checked schedule and the gaps it leaves between two runs. */
export interface CronSchedule {
  /** The expression, with single spaces between its fields. */
  expression: string;
  /** The shortest time between two consecutive runs. */
  shortestGapInMs: number;
  /** The longest time between two consecutive runs: the schedule's interval for freshness checks. */
  longestGapInMs: number;
}

export type CronScheduleResult = { ok: true; value: CronSchedule } | { ok: false; problem: string };

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  hint: string;
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, hint: "0-59" },
  { name: "hour", min: 0, max: 23, hint: "0-23" },
  { name: "day of month", min: 1, max: 31, hint: "1-31" },
  { name: "month", min: 1, max: 12, hint: "1-12" },
  // 7 is Sunday too, as in most crons.
  { name: "day of week", min: 0, max: 7, hint: "0-7, Sunday = 0 or 7" },
];

const NUMBER = /^\d{1,2}$/;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Simulated span: four years from a leap year, so 29 February and every weekday/date pairing occur. */
const SIMULATION_START_MS = Date.UTC(2024, 0, 1);
const SIMULATION_DAYS = 4 * 365 + 1;

/** The values one field allows, or a problem naming the field. */
function parseField(
  text: string,
  index: number,
): { values: Set<number>; star: boolean } | { problem: string } {
  const spec = FIELDS[index]!;
  const label = `field ${index + 1} (${spec.name})`;
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const [range = "", step, extra] = item.split("/");
    if (extra !== undefined || range === "") {
      return { problem: `${label} has "${item}", which is not a value, range or step` };
    }
    let from = spec.min;
    let to = spec.max;
    if (range !== "*") {
      const bounds = range.split("-");
      if (bounds.length > 2 || bounds.some((b) => !NUMBER.test(b))) {
        return {
          problem: /[a-z]/i.test(range)
            ? `${label} has "${range}": use numbers (${spec.hint}), not names`
            : `${label} has "${item}", which is not a value, range or step`,
        };
      }
      from = Number(bounds[0]);
      to = bounds.length === 2 ? Number(bounds[1]) : from;
      if (from < spec.min || to > spec.max) {
        return { problem: `${label} has "${range}", outside ${spec.hint}` };
      }
      if (from > to) return { problem: `${label} has the backwards range "${range}"` };
      // "5/10" means different things to different crons; Microsoft documents only */n.
      if (step !== undefined && bounds.length === 1) {
        return { problem: `${label} has "${item}": write a step as */n or a-b/n` };
      }
    }
    let by = 1;
    if (step !== undefined) {
      by = NUMBER.test(step) ? Number(step) : 0;
      if (by < 1 || by > spec.max) {
        return { problem: `${label} has the step "/${step}"; use 1 to ${spec.max}` };
      }
    }
    for (let v = from; v <= to; v += by) values.add(v);
  }
  if (index === 4 && values.has(7)) values.add(0);
  return { values, star: text.startsWith("*") };
}

/**
 * Checks a five-field cron expression and measures the gaps between its runs over four years
 * (UTC). Any problem is one line naming the field, or the gap, to fix. Pure.
 */
export function parseCronSchedule(text: string): CronScheduleResult {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === "") {
    return {
      ok: false,
      problem: `must be a cron expression with 5 fields (minute hour day-of-month month day-of-week, in UTC), e.g. ${DEFAULT_COLLECTOR_SCHEDULE} (got ${parts[0] === "" ? 0 : parts.length} fields)`,
    };
  }
  const fields: { values: Set<number>; star: boolean }[] = [];
  for (const [index, part] of parts.entries()) {
    const parsed = parseField(part, index);
    if ("problem" in parsed) return { ok: false, problem: parsed.problem };
    fields.push(parsed);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = fields as [
    (typeof fields)[number],
    (typeof fields)[number],
    (typeof fields)[number],
    (typeof fields)[number],
    (typeof fields)[number],
  ];
  const minutesOfDay: number[] = [];
  for (const h of [...hours.values].sort((a, b) => a - b)) {
    for (const m of [...minutes.values].sort((a, b) => a - b)) minutesOfDay.push(h * 60 + m);
  }
  // Classic cron: when both day fields are restricted, either one matching is enough.
  const either = !daysOfMonth.star && !daysOfWeek.star;
  let previousMs: number | undefined;
  let shortest = Number.POSITIVE_INFINITY;
  let longest = 0;
  let runs = 0;
  for (let day = 0; day < SIMULATION_DAYS; day++) {
    const dayMs = SIMULATION_START_MS + day * DAY_MS;
    const date = new Date(dayMs);
    if (!months.values.has(date.getUTCMonth() + 1)) continue;
    const dom = daysOfMonth.values.has(date.getUTCDate());
    const dow = daysOfWeek.values.has(date.getUTCDay());
    if (either ? !(dom || dow) : !(dom && dow)) continue;
    for (const minute of minutesOfDay) {
      const atMs = dayMs + minute * MINUTE_MS;
      if (previousMs !== undefined) {
        shortest = Math.min(shortest, atMs - previousMs);
        longest = Math.max(longest, atMs - previousMs);
      }
      previousMs = atMs;
      runs++;
    }
  }
  const expression = parts.join(" ");
  if (runs === 0) return { ok: false, problem: `never runs (no date matches ${expression})` };
  if (runs === 1) longest = Number.POSITIVE_INFINITY;
  if (shortest < MIN_SCHEDULE_GAP_IN_MS) {
    return {
      ok: false,
      problem: `runs ${describeGap(shortest)} apart at times; runs must be at least ${describeGap(MIN_SCHEDULE_GAP_IN_MS)} apart (for fresher data use collectorMode always-on)`,
    };
  }
  if (longest > MAX_SCHEDULE_GAP_IN_MS) {
    return {
      ok: false,
      problem: `leaves ${describeGap(longest)} between runs; at most ${describeGap(MAX_SCHEDULE_GAP_IN_MS)}, so failed runs are retried well before the Management API drops content after 7 days`,
    };
  }
  return { ok: true, value: { expression, shortestGapInMs: shortest, longestGapInMs: longest } };
}

/** "5 minutes", "2 hours", "7 days", "more than a year": a gap for messages. */
export function describeGap(ms: number): string {
  if (!Number.isFinite(ms)) return "more than a year";
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (ms < 120 * MINUTE_MS) return plural(Math.round(ms / MINUTE_MS), "minute");
  if (ms < 2 * DAY_MS) return plural(Math.round(ms / (60 * MINUTE_MS)), "hour");
  return plural(Math.round(ms / DAY_MS), "day");
}
