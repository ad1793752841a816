/**
 * The splunk-hec sink against the emulator's HTTP Event Collector over HTTPS: exactly once
 * with indexer acknowledgement, every documented refusal mapped to the right outcome (without
 * the token in any message), and an indexer restart in the middle of a run losing nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  SplunkHecSink,
  type SplunkHecSinkOptions,
} from "../../../collector/src/sinks/splunkHecSink";
import type { Batch, DeliveryOutcome, ReceivedRecord } from "../../../collector/src/types";
import { type Emulator, startEmulator } from "../../../emulator/src";
import { defaultSplunkHecKnobs } from "../../../emulator/src/splunkHec";
import { auditRecords, blob } from "./siemParsers";

const CONTENT_TYPE = "Audit.Exchange";

function batches(records: readonly ReceivedRecord[], size: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < records.length; i += size) {
    out.push({
      contentType: CONTENT_TYPE,
      blob: blob(CONTENT_TYPE, i),
      records: records.slice(i, i + size),
    });
  }
  return out;
}

/** What the pipeline does with `retryable`: the same Batch again until it is not retryable. */
async function deliverLikeThePipeline(
  sink: SplunkHecSink,
  batch: Batch,
): Promise<{ outcome: DeliveryOutcome; retries: number }> {
  let retries = 0;
  for (;;) {
    const outcome = await sink.deliver(batch);
    if (outcome.kind !== "retryable") return { outcome, retries };
    retries++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("SplunkHecSink against the emulated HTTP Event Collector", () => {
  let emulator: Emulator;
  const sinks: SplunkHecSink[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 13 });
  });
  afterAll(async () => {
    for (const sink of sinks) await sink.close();
    await emulator?.stop();
  });
  beforeEach(() => {
    Object.assign(emulator.splunkHec.knobs, defaultSplunkHecKnobs());
  });

  async function sink(overrides: Partial<SplunkHecSinkOptions> = {}): Promise<SplunkHecSink> {
    const instance = new SplunkHecSink({
      url: new URL(emulator.url),
      token: emulator.splunkHec.token,
      ack: true,
      index: "o365",
      ackPollInitialInMs: 10,
      ackPollMaxInMs: 50,
      ...overrides,
    });
    await instance.start(undefined);
    sinks.push(instance);
    return instance;
  }

  function indexedIds(source: string): string[] {
    return emulator.splunkHec
      .events()
      .filter((e) => e.source === source)
      .map((e) => (JSON.parse(e.eventText) as { Id: string }).Id);
  }

  it("delivers every record exactly once with ack, each event the raw record with its time", async () => {
    emulator.splunkHec.knobs.ackDelayMs = 30;
    const records = auditRecords(1, 300);
    const hec = await sink({ maxRequestBytes: 20_000 }); // several requests per batch
    for (const b of batches(records, 100)) {
      expect(await hec.deliver(b)).toEqual({ kind: "success" });
    }
    const events = emulator.splunkHec
      .events()
      .filter((e) => e.source === `auditbridge:${CONTENT_TYPE}`);
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(events.map((e) => (JSON.parse(e.eventText) as { Id: string }).Id).sort()).toEqual(
      [...byId.keys()].sort(),
    );
    for (const event of events) {
      const record = byId.get((JSON.parse(event.eventText) as { Id: string }).Id)!;
      expect(event.eventText).toBe(record.raw);
      expect(event).toMatchObject({ sourcetype: "o365:management:activity", index: "o365" });
      expect(event.time! * 1000).toBe(Date.parse(`${record.record.CreationTime}Z`));
    }
  });

  it("answers success only once the events are indexed (ack), not when HEC accepted them", async () => {
    emulator.splunkHec.knobs.ackDelayMs = 300;
    const hec = await sink({ name: "slow-ack" });
    const [b] = batches(auditRecords(2000, 5), 5);
    const started = Date.now();
    expect(await hec.deliver(b!)).toEqual({ kind: "success" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("retries busy (503 code 9), throttled (429) and outage (500) answers, with Retry-After", async () => {
    const hec = await sink();
    const [b] = batches(auditRecords(3000, 3), 3);
    emulator.splunkHec.knobs.busyRequests = 1;
    const busy = await hec.deliver(b!);
    expect(busy).toMatchObject({ kind: "retryable" });
    expect((busy as { error: Error }).error.message).toContain("Server is busy");
    emulator.splunkHec.knobs.throttledRequests = 1;
    expect(await hec.deliver(b!)).toMatchObject({ kind: "retryable", retryAfterInMs: 1000 });
    emulator.splunkHec.knobs.outage = true;
    expect(await hec.deliver(b!)).toMatchObject({ kind: "retryable" });
    emulator.splunkHec.knobs.outage = false;
    expect(await hec.deliver(b!)).toEqual({ kind: "success" });
  });

  it.each([
    [
      "an invalid token",
      { token: "00000000-0000-0000-0000-000000000000" },
      {},
      /refused the token.*SPLUNK_HEC_TOKEN/,
    ],
    ["a disabled token", {}, { tokenDisabled: true }, /token is disabled/],
    [
      "an index the token may not use",
      { index: "secret" },
      {},
      /incorrect index.*SPLUNK_HEC_INDEX/,
    ],
  ] as const)(
    "fails with the fix for %s, never showing the token",
    async (_, options, knobs, message) => {
      Object.assign(emulator.splunkHec.knobs, knobs);
      const hec = await sink(options);
      const [b] = batches(auditRecords(4000, 2), 2);
      const outcome = await hec.deliver(b!);
      expect(outcome.kind).toBe("failure");
      const text = (outcome as { error: Error }).error.message;
      expect(text).toMatch(message);
      expect(text).not.toContain(emulator.splunkHec.token);
      expect(text).not.toContain("00000000-0000-0000-0000-000000000000");
    },
  );

  it("fails with the fix when the token has acknowledgement disabled (code 14)", async () => {
    emulator.splunkHec.knobs.ackEnabled = false;
    const hec = await sink();
    const [b] = batches(auditRecords(5000, 2), 2);
    const outcome = await hec.deliver(b!);
    expect(outcome.kind).toBe("failure");
    expect((outcome as { error: Error }).error.message).toMatch(/SPLUNK_HEC_ACK=false/);
  });

  it("delivers without ack when SPLUNK_HEC_ACK is off (a 200 acknowledges)", async () => {
    emulator.splunkHec.knobs.ackEnabled = false;
    const hec = await sink({ ack: false, index: undefined });
    const records = auditRecords(6000, 10);
    expect(await hec.deliver(batches(records, 10)[0]!)).toEqual({ kind: "success" });
    const ids = indexedIds(`auditbridge:${CONTENT_TYPE}`);
    for (const r of records) expect(ids.filter((id) => id === r.id)).toHaveLength(1);
  });

  it("loses nothing across an indexer restart that drops unacknowledged events", async () => {
    emulator.splunkHec.knobs.ackDelayMs = 150;
    const records = auditRecords(10_000, 400);
    const hec = await sink({ ackTimeoutInMs: 400, name: "restart" });
    let retries = 0;
    const all = batches(records, 20);
    for (const [i, b] of all.entries()) {
      if (i === 5 || i === 12) {
        // Restart while this batch waits for its ack.
        setTimeout(() => emulator.splunkHec.restart(), 50);
      }
      const result = await deliverLikeThePipeline(hec, b);
      expect(result.outcome).toEqual({ kind: "success" });
      retries += result.retries;
    }
    expect(retries).toBeGreaterThan(0);
    const ids = indexedIds(`auditbridge:${CONTENT_TYPE}`).filter((id) =>
      records.some((r) => r.id === id),
    );
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(records.filter((r) => !counts.has(r.id))).toEqual([]);
    // The dropped events were never indexed, so resending them repeats nothing here.
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});
