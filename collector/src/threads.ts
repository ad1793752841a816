/**
 * Starting the collector's worker threads from either form of the code: compiled JavaScript
 * (the container image) runs the worker file directly; TypeScript sources (tests, `npm run
 * collector`) register tsx in the worker first, since a worker does not inherit the loader.
 */
import path from "node:path";
import { type ResourceLimits, Worker } from "node:worker_threads";

/**
 * Starts `<dir>/<baseName>.js` (or `.ts` when running from sources) as a worker thread;
 * `workerData` reaches it as `worker_threads.workerData`.
 */
export function startWorkerThread(
  dir: string,
  baseName: string,
  options: { workerData?: unknown; resourceLimits?: ResourceLimits } = {},
): Worker {
  const extension = path.extname(__filename);
  const file = path.join(dir, `${baseName}${extension}`);
  if (extension !== ".ts") return new Worker(file, options);
  const tsx = require.resolve("tsx/cjs/api");
  return new Worker(
    `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(file)});`,
    { ...options, eval: true },
  );
}
