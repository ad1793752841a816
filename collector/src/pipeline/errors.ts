import { AuditBridgeError } from "../../../domain/errors";
import { isAbortError } from "../backoff";

/** A sink answered `failure`, a sink threw, or the state store failed: the run stopped. */
export class PipelineError extends AuditBridgeError<"pipeline"> {
  override readonly name: string = "PipelineError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "pipeline", ...options });
  }
}

/** Type guard for {@link PipelineError}. */
export function isPipelineError(error: unknown): error is PipelineError {
  return error instanceof PipelineError;
}

/** True when `error` is how an operation ended because `signal` fired (not a real failure). */
export function isStopError(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (isAbortError(error) || error === signal.reason);
}

/** The message of anything thrown, for logs and wrapped errors. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
