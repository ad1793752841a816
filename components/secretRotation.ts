/**
 * Client secret schedule. A secret's end date must not move on every `pulumi up` (every
 * ApplicationPassword input forces a new password), yet secrets must rotate. So time is cut into
 * rotation periods counted from a fixed anchor date in config: period N starts at
 * `anchor + N × rotation` and its password ends at `anchor + N × rotation + lifetime`. The end
 * date depends only on config and on which period "now" falls in, so every run inside a period
 * sends identical inputs, and the first run of a new period creates the next password.
 *
 * Two passwords are kept, the current period's and the previous one's: the new one is created
 * before the old one is retired (Pulumi creates new resources before deleting ones the program
 * no longer declares), and because `rotation ≤ lifetime − 7 days` the previous one is still valid
 * while the collector restarts onto the new one.
 */
import { parseIsoInstant, toRfc3339 } from "./validators";

const DAY_MS = 86_400_000;

/** One rotation period's password. */
export interface SecretSlot {
  /** Period number counted from the anchor (0 = the anchor's period). */
  slot: number;
  /** End of validity, RFC 3339 UTC without milliseconds. */
  endDate: string;
}

/** Inputs of the schedule. */
export interface SecretScheduleOptions {
  /** Anchor instant (ISO 8601). */
  anchor: string;
  rotationDays: number;
  lifetimeDays: number;
  /** The clock reading that picks the period; only the period number reaches resource inputs. */
  nowMs: number;
}

/** Current and (when there is one) previous period's password. */
export interface SecretSchedule {
  current: SecretSlot;
  previous?: SecretSlot;
}

/** Computes the passwords to keep at `nowMs`. */
export function secretSchedule(options: SecretScheduleOptions): SecretSchedule {
  const anchorMs = parseIsoInstant(options.anchor)?.getTime();
  if (anchorMs === undefined) {
    throw new Error(`secret rotation anchor must be an ISO 8601 date (got ${options.anchor})`);
  }
  if (options.nowMs < anchorMs) {
    throw new Error(`secret rotation anchor ${options.anchor} is in the future`);
  }
  const periodMs = options.rotationDays * DAY_MS;
  const slotAt = (n: number): SecretSlot => ({
    slot: n,
    endDate: toRfc3339(new Date(anchorMs + n * periodMs + options.lifetimeDays * DAY_MS)),
  });
  const n = Math.floor((options.nowMs - anchorMs) / periodMs);
  return n > 0 ? { current: slotAt(n), previous: slotAt(n - 1) } : { current: slotAt(n) };
}
