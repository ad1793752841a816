/**
 * The emulator's Splunk HTTP Event Collector answers as Splunk documents it
 * (https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src";
import { defaultSplunkHecKnobs, splitConcatenatedJson } from "../../emulator/src/splunkHec";

const CHANNEL = "0b8e8d8c-1234-4abc-8def-0123456789ab";

describe("emulated Splunk HEC", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ seed: 21 });
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  beforeEach(() => {
    Object.assign(emulator.splunkHec.knobs, defaultSplunkHecKnobs());
  });

  async function post(path: string, body: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${emulator.url}${path}`, {
      method: "POST",
      headers: {
        Authorization: `Splunk ${emulator.splunkHec.token}`,
        "X-Splunk-Request-Channel": CHANNEL,
        ...headers,
      },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("splits concatenated JSON envelopes and refuses anything else", () => {
    expect(splitConcatenatedJson('{"event":"a"}\n{"event":{"b":"}"}}')).toEqual([
      '{"event":"a"}',
      '{"event":{"b":"}"}}',
    ]);
    expect(splitConcatenatedJson('{"event":1} x')).toBeUndefined();
    expect(splitConcatenatedJson('{"event":1')).toBeUndefined();
  });

  it.each([
    [{ Authorization: "" }, 401, 2],
    [{ Authorization: "Bearer x" }, 401, 3],
    [{ Authorization: "Splunk wrong" }, 403, 4],
  ])("refuses authorization %j with %i code %i", async (headers, status, code) => {
    const res = await post("/services/collector/event", '{"event":"x"}', headers);
    expect(res).toEqual({ status, body: { text: expect.any(String), code } });
  });

  it("answers 403 code 1 for a disabled token and 400 code 7 for an index not allowed", async () => {
    emulator.splunkHec.knobs.tokenDisabled = true;
    expect((await post("/services/collector/event", '{"event":"x"}')).body.code).toBe(1);
    emulator.splunkHec.knobs.tokenDisabled = false;
    const res = await post(
      "/services/collector/event",
      '{"event":"x"}{"event":"y","index":"nope"}',
    );
    expect(res).toEqual({
      status: 400,
      body: { text: "Incorrect index", code: 7, "invalid-event-number": 1 },
    });
  });

  it("needs a channel when ack is on (code 10) and refuses ack polls when it is off (code 14)", async () => {
    const missing = await fetch(`${emulator.url}/services/collector/event`, {
      method: "POST",
      headers: { Authorization: `Splunk ${emulator.splunkHec.token}` },
      body: '{"event":"x"}',
    });
    expect([missing.status, ((await missing.json()) as { code: number }).code]).toEqual([400, 10]);
    const invalid = await post("/services/collector/event", '{"event":"x"}', {
      "X-Splunk-Request-Channel": "not-a-guid",
    });
    expect(invalid.body.code).toBe(11);
    emulator.splunkHec.knobs.ackEnabled = false;
    const ack = await post("/services/collector/ack", '{"acks":[0]}');
    expect(ack).toEqual({ status: 400, body: { text: "ACK is disabled", code: 14 } });
  });

  it("acknowledges after the ack delay; a restart drops what was not indexed yet", async () => {
    emulator.splunkHec.knobs.ackDelayMs = 200;
    const before = emulator.splunkHec.events().length;
    const sent = await post(
      "/services/collector/event",
      '{"event":{"Id":"a"}}{"event":{"Id":"b"}}',
    );
    expect(sent.status).toBe(200);
    const ackId = sent.body.ackId as number;
    expect((await post("/services/collector/ack", `{"acks":[${ackId}]}`)).body).toEqual({
      acks: { [ackId]: false },
    });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await post("/services/collector/ack", `{"acks":[${ackId}]}`)).body).toEqual({
      acks: { [ackId]: true },
    });
    expect(
      emulator.splunkHec
        .events()
        .slice(before)
        .map((e) => e.eventText),
    ).toEqual(['{"Id":"a"}', '{"Id":"b"}']);

    const lost = await post("/services/collector/event", '{"event":{"Id":"c"}}');
    emulator.splunkHec.restart();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await post("/services/collector/ack", `{"acks":[${lost.body.ackId}]}`)).body).toEqual({
      acks: { [String(lost.body.ackId)]: false },
    });
    expect(emulator.splunkHec.events().map((e) => e.eventText)).not.toContain('{"Id":"c"}');
  });

  it("answers busy (503 code 9), 429 with Retry-After, and 500 code 8 in an outage", async () => {
    emulator.splunkHec.knobs.busyRequests = 1;
    expect(await post("/services/collector/event", '{"event":"x"}')).toEqual({
      status: 503,
      body: { text: "Server is busy", code: 9 },
    });
    emulator.splunkHec.knobs.throttledRequests = 1;
    expect((await post("/services/collector/event", '{"event":"x"}')).status).toBe(429);
    emulator.splunkHec.knobs.outage = true;
    expect((await post("/services/collector/event", '{"event":"x"}')).body.code).toBe(8);
  });

  it("refuses an event without an event field (12) or a blank one (13), and an empty body (5)", async () => {
    expect((await post("/services/collector/event", '{"time":1}')).body.code).toBe(12);
    expect((await post("/services/collector/event", '{"event":""}')).body.code).toBe(13);
    expect((await post("/services/collector/event", "")).body.code).toBe(5);
  });
});
