import type { OperationsServer } from "../http";
import type { Logger } from "../log";
import type { Pipeline } from "../pipeline/pipeline";
import type { ProgressDisplay } from "../progress";
import type { ParseWorkerPool } from "../source/parseWorkers";
import type { CollectorRunResult } from "./failure";

/** What {@link shutDown} closes. */
export interface ShutDownOptions {
  pipeline: Pipeline;
  /** The pipeline was opened: a failure to close it then matters (it may hold a lock). */
  opened: boolean;
  parseWorkers: ParseWorkerPool | undefined;
  server: OperationsServer;
  progress: ProgressDisplay | undefined;
  logger: Logger;
}

/**
 * Closes everything after the run loop ended, in order: the progress line, the sinks and the
 * state (even when opening failed half-way, so a lock or file handle is never left behind), the
 * parse workers and the `/healthz` server. The pipeline has already drained by then (the abort
 * signal lets it finish the batch in flight and commit). Returns `result`, or exit 1 when
 * closing an opened pipeline failed after a successful run.
 */
export async function shutDown(
  result: CollectorRunResult,
  options: ShutDownOptions,
): Promise<CollectorRunResult> {
  let final = result;
  options.progress?.stop();
  await options.pipeline.close().catch((error: unknown) => {
    if (!options.opened) return;
    const message = (error as Error).message;
    options.logger.error({ err: message }, "closing the sinks or the state failed");
    if (final.exitCode === 0) final = { exitCode: 1, reason: `closing failed: ${message}` };
  });
  await options.parseWorkers?.close();
  await options.server.close();
  return final;
}
