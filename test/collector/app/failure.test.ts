import { describe, expect, it } from "vitest";
import { PipelineError } from "../../../collector/src/pipeline/pipeline";
import { ConfigErrorGate } from "../../../collector/src/run/configErrorGate";
import { isStateOwnershipLost, judgeFailure } from "../../../collector/src/run/failure";
import { ManagementApiError } from "../../../collector/src/source/apiError";
import { StateStoreError } from "../../../collector/src/state/errors";
import type { Checkpoint, Source, SourceItem } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";

describe("judgeFailure", () => {
  it("reads the classification of a Management API error, also inside a pipeline error", () => {
    const apiError = new ManagementApiError({
      operation: "subscriptions/content",
      status: 401,
      code: "AF10001",
      classification: {
        action: "fatal-config",
        reason: "the app lacks a Management API permission (AF10001)",
      },
    });
    expect(judgeFailure(apiError)).toEqual({
      cause: "the app lacks a Management API permission (AF10001)",
      misconfigured: true,
    });
    expect(
      judgeFailure(new PipelineError("pipeline stopped", { cause: apiError })).misconfigured,
    ).toBe(true);
  });

  it("treats anything else as transient and keeps only its first line", () => {
    expect(judgeFailure(new Error("socket hang up\n    at x.ts:1"))).toEqual({
      cause: "socket hang up",
      misconfigured: false,
    });
  });
});

describe("isStateOwnershipLost", () => {
  it("is true for a lost lease or a locked state, also inside a pipeline error, and false otherwise", () => {
    const lost = new StateStoreError("lease-lost", "lease lost");
    expect(isStateOwnershipLost(lost)).toBe(true);
    expect(isStateOwnershipLost(new StateStoreError("locked", "held elsewhere"))).toBe(true);
    expect(isStateOwnershipLost(new PipelineError("state commit failed", { cause: lost }))).toBe(
      true,
    );
    expect(isStateOwnershipLost(new StateStoreError("disk-full", "disk full"))).toBe(false);
    expect(isStateOwnershipLost(new Error("lease-lost"))).toBe(false);
  });
});

describe("ConfigErrorGate", () => {
  const AAD: ContentType = "Audit.AzureActiveDirectory";
  const EXO: ContentType = "Audit.Exchange";
  const misconfigured = new ManagementApiError({
    operation: "subscriptions/content",
    status: 401,
    code: "AF10001",
    classification: { action: "fatal-config", reason: "missing permission (AF10001)" },
  });

  /** A source whose polls of `failing` throw `error`; every poll is counted. */
  function source(failing: Set<ContentType>, error: Error) {
    const polls: ContentType[] = [];
    const inner: Source = {
      async start() {},
      async *poll(contentType: ContentType, _checkpoint: Checkpoint | undefined) {
        polls.push(contentType);
        if (failing.has(contentType)) throw error;
        yield* [] as SourceItem[];
      },
    };
    return { inner, polls };
  }

  async function drain(iterable: AsyncIterable<SourceItem>): Promise<unknown> {
    try {
      for await (const _ of iterable) {
        // Items do not matter here, only whether the poll reached the inner source.
      }
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it("holds back only the content type whose poll failed with a configuration error until the retry period passed", async () => {
    let nowMs = 0;
    const failing = new Set<ContentType>([AAD]);
    const { inner, polls } = source(failing, misconfigured);
    const gate = new ConfigErrorGate(inner, { retryInMs: 1_000, nowMs: () => nowMs });

    expect(await drain(gate.poll(AAD, undefined))).toBe(misconfigured);
    await drain(gate.poll(EXO, undefined));
    nowMs = 999;
    expect(await drain(gate.poll(AAD, undefined))).toBeUndefined();
    await drain(gate.poll(EXO, undefined));
    expect(polls).toEqual([AAD, EXO, EXO]);
    expect(gate.wasDeferred(AAD)).toBe(true);
    expect(gate.wasDeferred(EXO)).toBe(false);

    failing.clear();
    nowMs = 1_000;
    await drain(gate.poll(AAD, undefined));
    expect(polls).toEqual([AAD, EXO, EXO, AAD]);
    expect(gate.wasDeferred(AAD)).toBe(false);
  });

  it("does not hold back a content type after a transient failure", async () => {
    const { inner, polls } = source(new Set([AAD]), new Error("socket hang up"));
    const gate = new ConfigErrorGate(inner, { retryInMs: 1_000, nowMs: () => 0 });
    await drain(gate.poll(AAD, undefined));
    await drain(gate.poll(AAD, undefined));
    expect(polls).toEqual([AAD, AAD]);
  });
});
