/**
 * Entry point of the SQLite state thread (see `threadedState.ts`): runs one SqliteStateStore
 * and answers each request in order, so SQLite's work, fsync included, stays off the main
 * thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { StateStore } from "../types";
import { isStateStoreError } from "./errors";
import { type SqliteStateOptions, SqliteStateStore } from "./sqliteState";

/** The StateStore methods the main thread calls. */
export type StateMethod = keyof StateStore;

export interface StateRequest {
  call: number;
  method: StateMethod;
  args: unknown[];
}

export type StateReply =
  | { call: number; result: unknown }
  | { call: number; error: { name: string; code?: string; message: string } };

const port = parentPort;
if (port === null) {
  throw new Error("sqliteWorker.ts runs only as a worker thread (see threadedState.ts)");
}
const store = new SqliteStateStore(workerData as SqliteStateOptions);

async function answer(request: StateRequest): Promise<StateReply> {
  try {
    const method = store[request.method] as (...args: unknown[]) => Promise<unknown>;
    return { call: request.call, result: await method.apply(store, request.args) };
  } catch (error) {
    const problem = error instanceof Error ? error : new Error(String(error));
    return {
      call: request.call,
      error: {
        name: problem.name,
        ...(isStateStoreError(problem) ? { code: problem.code } : {}),
        message: problem.message,
      },
    };
  }
}

// One request at a time, in the order sent: a prune that yields between its steps finishes
// before the next call starts.
let queue: Promise<void> = Promise.resolve();
port.on("message", (request: StateRequest) => {
  queue = queue.then(async () => port.postMessage(await answer(request)));
});
