import type { ContentType } from "../../../domain/contentTypes";
import { AuditBridgeError } from "../../../domain/errors";
import { sleep } from "../backoff";
import type { Logger } from "../log";
import type { OperationOptions } from "../types";
import { isManagementApiError } from "./apiError";
import type { ManagementApiClient } from "./client";

/**
 * After a start request, wait this long before the next one (rule added to the API reference in
 * 2025-08: https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#start-a-subscription).
 * A stop followed at once by a start leaves the subscription disabled, which is what the rule
 * prevents.
 */
export const START_GUARD_IN_MS = 15 * 60_000;

/** What `resubscribe` does when the previous start is less than 15 minutes old. */
export type StartGuardPolicy = "wait" | "report";

export interface SubscriptionManagerOptions {
  client: Pick<ManagementApiClient, "listSubscriptions" | "startSubscription">;
  contentTypes: readonly ContentType[];
  logger?: Logger;
  /** Clock, epoch ms. */
  nowMs?: () => number;
  startGuardInMs?: number;
  /** Default `report`: throw `StartGuardError` and let the caller retry later. */
  guardPolicy?: StartGuardPolicy;
}

/** A start was wanted but the previous one is too recent; retry at `retryAtMs`. */
export class StartGuardError extends AuditBridgeError<"start-guard"> {
  override readonly name = "StartGuardError";
  constructor(
    readonly contentType: string,
    readonly retryAtMs: number,
  ) {
    super(
      `the ${contentType} subscription needs a new start, but the API allows one start per 15 minutes; the next start is possible at ${new Date(retryAtMs).toISOString()}`,
      { code: "start-guard" },
    );
  }
}

export function isStartGuardError(error: unknown): error is StartGuardError {
  return error instanceof StartGuardError;
}

/**
 * Keeps the configured content types subscribed. Remembers when it last sent a start per content
 * type (in this process) and never sends another within the guard interval.
 */
export class SubscriptionManager {
  private readonly lastStartMs = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: SubscriptionManagerOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  /**
   * Lists subscriptions and starts every configured content type that is not enabled. A start
   * blocked by the guard is skipped (one is already under way). Returns what it did.
   */
  async ensureSubscribed(
    options: OperationOptions = {},
  ): Promise<{ enabled: ContentType[]; started: ContentType[] }> {
    const listed = await this.options.client.listSubscriptions(options);
    const enabled: ContentType[] = [];
    const started: ContentType[] = [];
    for (const contentType of this.options.contentTypes) {
      const current = listed.find((s) => s.contentType.toLowerCase() === contentType.toLowerCase());
      if (current?.status.toLowerCase() === "enabled") {
        enabled.push(contentType);
        continue;
      }
      if (this.guardUntil(contentType) !== undefined) {
        this.options.logger?.info(
          { contentType },
          "subscription not enabled yet; a start was sent less than 15 minutes ago",
        );
        continue;
      }
      await this.start(contentType, options);
      started.push(contentType);
    }
    return { enabled, started };
  }

  /**
   * Starts a subscription the API reported missing or disabled (AF20022/AF20023). Within the
   * guard interval it waits (policy `wait`) or throws `StartGuardError` (policy `report`).
   */
  async resubscribe(contentType: ContentType, options: OperationOptions = {}): Promise<void> {
    const until = this.guardUntil(contentType);
    if (until !== undefined) {
      if ((this.options.guardPolicy ?? "report") === "report") {
        throw new StartGuardError(contentType, until);
      }
      this.options.logger?.info(
        { contentType, waitInMs: until - this.now() },
        "waiting for the 15-minute start guard before re-subscribing",
      );
      await sleep(until - this.now(), options.abortSignal);
    }
    await this.start(contentType, options);
  }

  /** When the guard for `contentType` ends, or undefined when a start may be sent now. */
  guardUntil(contentType: string): number | undefined {
    const last = this.lastStartMs.get(contentType);
    if (last === undefined) return undefined;
    const until = last + (this.options.startGuardInMs ?? START_GUARD_IN_MS);
    return until > this.now() ? until : undefined;
  }

  private async start(contentType: ContentType, options: OperationOptions): Promise<void> {
    // Recorded before sending: a start that reached the API counts even if the answer is lost.
    this.lastStartMs.set(contentType, this.now());
    try {
      const result = await this.options.client.startSubscription(contentType, options);
      this.options.logger?.info(
        { contentType, alreadyEnabled: result.alreadyEnabled, status: result.status },
        result.alreadyEnabled ? "subscription already enabled" : "subscription started",
      );
    } catch (error) {
      // A configuration error changed nothing on the API's side; the guard does not apply.
      if (isManagementApiError(error) && error.classification.action === "fatal-config") {
        this.lastStartMs.delete(contentType);
      }
      throw error;
    }
  }
}
