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
 *
 * No password is ever declared that ends less than {@link MIN_PASSWORD_VALIDITY_DAYS} after now.
 * The current period's password always satisfies that (`rotation ≤ lifetime − 7 days`), but the
 * previous period's one, on a first deploy late in a period or after lost state, would be created
 * already expired (Entra ID refuses it: "Key credential end date is invalid") or about to expire.
 * It is then left out: the current password is what the collector uses anyway.
 */
import { MIN_SECRET_OVERLAP_DAYS, parseIsoInstant, toRfc3339 } from "./validators";

const DAY_MS = 86_400_000;

/** A declared password ends at least this many days after the run that declares it. */
export const MIN_PASSWORD_VALIDITY_DAYS = MIN_SECRET_OVERLAP_DAYS;

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
  const validLongEnough = (slot: SecretSlot): boolean =>
    Date.parse(slot.endDate) - options.nowMs >= MIN_PASSWORD_VALIDITY_DAYS * DAY_MS;
  const current = slotAt(n);
  if (!validLongEnough(current)) {
    // Unreachable with validated config (rotation ≤ lifetime − 7); refuse rather than create it.
    throw new Error(
      `secret rotation ${options.rotationDays} days with lifetime ${options.lifetimeDays} days would create a client secret ending ${current.endDate}, less than ${MIN_PASSWORD_VALIDITY_DAYS} days from now`,
    );
  }
  const previous = n > 0 ? slotAt(n - 1) : undefined;
  return previous && validLongEnough(previous) ? { current, previous } : { current };
}
