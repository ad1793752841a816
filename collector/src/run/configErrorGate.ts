import type { ContentType } from "../../../domain/contentTypes";
import type { Checkpoint, OperationOptions, Source, SourceItem } from "../types";
import { judgeFailure } from "./failure";

/** Retry period for configuration errors: slow, since an operator has to act first. */
export const DEFAULT_CONFIG_ERROR_RETRY_MS = 5 * 60_000;

/** Options of a {@link ConfigErrorGate}. */
export interface ConfigErrorGateOptions {
  /** How long a content type waits after a configuration error (default {@link DEFAULT_CONFIG_ERROR_RETRY_MS}). */
  retryInMs?: number;
  /** Clock, epoch ms (default `Date.now`). */
  nowMs?: () => number;
}

/**
 * Wraps the source so a content type whose last poll failed with a configuration error is
 * polled again only after the slow retry period; the others keep their normal cadence.
 */
export class ConfigErrorGate implements Source {
  private readonly retryAtMs = new Map<ContentType, number>();
  private readonly deferred = new Set<ContentType>();
  private readonly retryInMs: number;
  private readonly nowMs: () => number;

  constructor(
    private readonly inner: Source,
    options: ConfigErrorGateOptions = {},
  ) {
    this.retryInMs = options.retryInMs ?? DEFAULT_CONFIG_ERROR_RETRY_MS;
    this.nowMs = options.nowMs ?? Date.now;
  }

  start(options?: OperationOptions): Promise<void> {
    return this.inner.start(options);
  }

  async *poll(
    contentType: ContentType,
    checkpoint: Checkpoint | undefined,
    options?: OperationOptions,
  ): AsyncIterable<SourceItem> {
    const atMs = this.retryAtMs.get(contentType);
    if (atMs !== undefined && this.nowMs() < atMs) {
      this.deferred.add(contentType);
      return;
    }
    this.deferred.delete(contentType);
    try {
      yield* this.inner.poll(contentType, checkpoint, options);
      this.retryAtMs.delete(contentType);
    } catch (error) {
      if (judgeFailure(error).misconfigured)
        this.retryAtMs.set(contentType, this.nowMs() + this.retryInMs);
      throw error;
    }
  }

  /** True when the last round skipped `contentType` because of a configuration error. */
  wasDeferred(contentType: ContentType): boolean {
    return this.deferred.has(contentType);
  }
}
