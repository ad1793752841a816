/** Check 5: every configured content type has an enabled subscription (and webhook, if any). */
import type { SubscriptionStatus } from "../../../collector/src/source/client";
import { describeManagementError, isSubscriptionDisabledError } from "../explain";
import type { VerifyConfig } from "../inputs";
import type { ContentOutcome } from "./content";
import { result, type Settled, type VerifyCheckResult } from "./result";

/** The `webhook.status` of a listed subscription, or null when it has no webhook. */
function webhookStatus(webhook: unknown): string | null {
  const status = (webhook as { status?: unknown } | null | undefined)?.status;
  return typeof status === "string" && status !== "" ? status : null;
}

/**
 * Judges `subscriptions/list` against the configured content types; a listing that answered
 * AF20023 marks its type disabled even when the list still says enabled. Pure.
 */
export function judgeSubscriptions(
  config: VerifyConfig,
  list: Settled<SubscriptionStatus[]> | null,
  content: ContentOutcome[] | null,
): VerifyCheckResult {
  if (!list)
    return result("subscriptions", "skip", "no token to list subscriptions (check 1 failed)", null);
  if (!list.ok) {
    const described = describeManagementError(list.error, config, "subscriptions/list");
    return result("subscriptions", "fail", described.reason, described.fix);
  }
  const byType = new Map(list.value.map((s) => [s.contentType.toLowerCase(), s]));
  const problems: string[] = [];
  const webhookProblems: string[] = [];
  const perType: Record<string, unknown> = {};
  for (const ct of config.contentTypes) {
    const sub = byType.get(ct.toLowerCase());
    const listing = content?.find((c) => c.contentType === ct)?.listing;
    const disabledByListing =
      listing !== undefined && !listing.ok && isSubscriptionDisabledError(listing.error);
    if (!sub) {
      problems.push(`${ct} has no subscription`);
      perType[ct] = { status: "missing" };
      continue;
    }
    const status = disabledByListing ? "disabled" : sub.status;
    const webhook = webhookStatus(sub.webhook);
    perType[ct] = { status, webhook };
    if (status.toLowerCase() !== "enabled") problems.push(`${ct} is ${status}`);
    if (webhook && webhook.toLowerCase() !== "enabled") {
      webhookProblems.push(`${ct} webhook is ${webhook}`);
    }
  }
  const details = { contentTypes: perType };
  if (problems.length > 0) {
    return result(
      "subscriptions",
      "fail",
      problems.join("; "),
      "run the collector once (`npm run collector -- run --once`): it starts missing or disabled subscriptions (the API asks for 15 minutes between start requests)",
      details,
    );
  }
  if (webhookProblems.length > 0) {
    return result(
      "subscriptions",
      "warn",
      `all ${config.contentTypes.length} content types enabled, but ${webhookProblems.join("; ")}`,
      "send subscriptions/start with the webhook again to re-enable it (polling keeps working meanwhile)",
      details,
    );
  }
  return result(
    "subscriptions",
    "pass",
    `all ${config.contentTypes.length} configured content types are enabled`,
    null,
    details,
  );
}
