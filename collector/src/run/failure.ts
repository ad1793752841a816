import { isPipelineError } from "../pipeline/errors";
import { isManagementApiError } from "../source/apiError";
import { isStartGuardError } from "../source/subscriptions";
import { isStateStoreError } from "../state/errors";

/** How a run ended: 0 done or drained after a signal, 1 could not complete, 2 bad setup. */
export interface CollectorRunResult {
  exitCode: 0 | 1 | 2;
  /** One line for the operator when `exitCode` is not 0. */
  reason?: string;
}

/** What a failure means for the run loop. */
export interface FailureVerdict {
  /** One line, safe for logs and `/healthz`. */
  cause: string;
  /** Only an operator can fix it: retry slowly. */
  misconfigured: boolean;
}

/** The error a pipeline error wraps (what actually went wrong), or `error` itself. */
export function rootCauseOf(error: unknown): unknown {
  return isPipelineError(error) && error.cause !== undefined ? error.cause : error;
}

/** Reads the cause out of an error from the source, the pipeline or the state store. */
export function judgeFailure(error: unknown): FailureVerdict {
  const root = rootCauseOf(error);
  if (isManagementApiError(root)) {
    return {
      cause: root.classification.reason,
      misconfigured: root.classification.action === "fatal-config",
    };
  }
  if (isStartGuardError(root)) return { cause: root.message, misconfigured: false };
  const message = error instanceof Error ? error.message : String(error);
  return { cause: message.split("\n")[0]!, misconfigured: false };
}

/**
 * True when the error says another collector owns the state now (the blob lease was lost, or
 * the state is locked): this one must stop rather than retry, or two would deliver at once.
 */
export function isStateOwnershipLost(error: unknown): boolean {
  const root = rootCauseOf(error);
  return isStateStoreError(root) && (root.code === "lease-lost" || root.code === "locked");
}
