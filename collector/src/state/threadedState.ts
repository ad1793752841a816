/**
 * The SQLite state store on its own thread. SQLite is synchronous: every lookup, insert and
 * fsync of a commit would otherwise stop the main thread, which also reads blobs and feeds the
 * sinks. Same contract and same errors as {@link SqliteStateStore}; calls run in order.
 */
import type { ResourceLimits, Worker } from "node:worker_threads";
import type { ContentType } from "../../../domain/contentTypes";
import { startWorkerThread } from "../threads";
import type { Checkpoint, CommitUpdate, OperationOptions, StateStore } from "../types";
import { StateStoreError, type StateStoreErrorCode } from "./errors";
import { requireStatePath, type SqliteStateOptions } from "./sqliteState";
import type { StateMethod, StateReply, StateRequest } from "./sqliteWorker";

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class ThreadedSqliteStateStore implements StateStore {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextCall = 1;
  /** Why the thread stopped on its own; every later call fails with it. */
  private failure: StateStoreError | undefined;
  private readonly stopController = new AbortController();
  /**
   * Aborted (with the StateStoreError as reason) when the thread stops on its own after a
   * successful open: the state cannot be reached any more, so the collector should stop and be
   * restarted, as it would be had SQLite failed on the main thread.
   */
  readonly threadStoppedSignal: AbortSignal = this.stopController.signal;
  private opened = false;

  constructor(
    readonly options: SqliteStateOptions,
    private readonly thread: { resourceLimits?: ResourceLimits } = {},
  ) {
    requireStatePath(options);
  }

  async open(options?: OperationOptions): Promise<void> {
    options?.abortSignal?.throwIfAborted();
    if (this.worker === undefined) {
      this.failure = undefined;
      const worker = startWorkerThread(__dirname, "sqliteWorker", {
        workerData: this.options,
        resourceLimits: { maxYoungGenerationSizeMb: 4, ...this.thread.resourceLimits },
      });
      worker.on("message", (reply: StateReply) => this.settle(reply));
      worker.on("error", (error) => this.stopped(`failed: ${error.message}`));
      worker.on("exit", (code) => this.stopped(`exited with code ${code}`));
      worker.unref();
      this.worker = worker;
    }
    try {
      await this.call("open", []);
      this.opened = true;
    } catch (error) {
      await this.terminate();
      throw error;
    }
  }

  loadCheckpoints(): Promise<Map<ContentType, Checkpoint>> {
    return this.call("loadCheckpoints", []) as Promise<Map<ContentType, Checkpoint>>;
  }

  loadSinkPositions(): Promise<Record<string, string>> {
    return this.call("loadSinkPositions", []) as Promise<Record<string, string>>;
  }

  seen(ids: readonly string[]): Promise<Set<string>> {
    return this.call("seen", [ids]) as Promise<Set<string>>;
  }

  async commit(update: CommitUpdate): Promise<void> {
    await this.call("commit", [update]);
  }

  prune(olderThanMs: number): Promise<number> {
    return this.call("prune", [olderThanMs]) as Promise<number>;
  }

  async close(): Promise<void> {
    if (this.worker === undefined) return;
    try {
      await this.call("close", []);
    } finally {
      await this.terminate();
    }
  }

  private call(method: StateMethod, args: unknown[]): Promise<unknown> {
    const worker = this.worker;
    if (worker === undefined) {
      return Promise.reject(
        this.failure ?? new StateStoreError("io", `the SQLite state is not open (${method})`),
      );
    }
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(call, { resolve, reject });
      const request: StateRequest = { call, method, args };
      worker.postMessage(request);
    });
  }

  private settle(reply: StateReply): void {
    const pending = this.pending.get(reply.call);
    if (pending === undefined) return;
    this.pending.delete(reply.call);
    if (this.pending.size === 0) this.worker?.unref();
    if ("error" in reply) {
      const { name, code, message } = reply.error;
      pending.reject(
        name === "StateStoreError"
          ? new StateStoreError(code as StateStoreErrorCode, message)
          : Object.assign(new Error(message), { name }),
      );
    } else {
      pending.resolve(reply.result);
    }
  }

  /** The thread is gone: calls in flight and later fail with one clear error. */
  private stopped(problem: string): void {
    if (this.worker === undefined) return;
    this.worker = undefined;
    this.failure = new StateStoreError(
      "io",
      `the SQLite state thread ${problem}; the state stays as last committed (${this.options.path})`,
    );
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
    if (this.opened) this.stopController.abort(this.failure);
  }

  private async terminate(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.opened = false;
    for (const pending of this.pending.values()) {
      pending.reject(new StateStoreError("io", "the SQLite state was closed"));
    }
    this.pending.clear();
    await worker?.terminate();
  }
}
