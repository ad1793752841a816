/**
 * The syslog sink against a real rsyslogd (started by the test on loopback): every record
 * arrives exactly once and reads back to its values, over TCP, mutual TLS and UDP, in CEF, LEEF
 * and JSON; a receiver restart in the middle of a run loses nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestPki,
  type Rsyslog,
  startRsyslog,
  type Transport,
} from "../../../bench/lib/rsyslog";
import type { SyslogFormat } from "../../../collector/src/sinks/siemSettings";
import { SyslogSink, type SyslogSinkOptions } from "../../../collector/src/sinks/syslogSink";
import type { Batch, ReceivedRecord } from "../../../collector/src/types";
import { recordTypeName } from "../../../domain/records";
import {
  auditRecords,
  blob,
  cefLabelled,
  expectedIp,
  parseCef,
  parseLeef,
  parseRfc5424,
} from "./siemParsers";

const CONTENT_TYPE = "Audit.SharePoint";

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

function sinkFor(receiver: Rsyslog, transport: Transport, extra: Partial<SyslogSinkOptions>) {
  return new SyslogSink({
    target: { transport, host: "127.0.0.1", port: receiver.port },
    hostname: "collector-test",
    reconnectBaseDelayInMs: 20,
    reconnectMaxDelayInMs: 200,
    ...(receiver.pki
      ? {
          caFile: receiver.pki.caFile,
          clientCertFile: receiver.pki.clientCertFile,
          clientKeyFile: receiver.pki.clientKeyFile,
        }
      : {}),
    ...extra,
  });
}

/** Messages of one app name, parsed; waits until `count` arrived (rsyslog writes asynchronously). */
type ReceivedMessage = NonNullable<ReturnType<typeof parseRfc5424>>;

/**
 * The receiver's messages of `appName`, once it has written `count` of them, or `until` says the
 * ones written so far are complete (with repeats, a count is reached before the last message is
 * written), or 10 s have passed.
 */
async function messagesOf(
  receiver: Rsyslog,
  appName: string,
  count: number,
  until?: (messages: readonly ReceivedMessage[]) => boolean,
) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const parsed = receiver
      .lines()
      .map(parseRfc5424)
      .filter((m): m is ReceivedMessage => m !== undefined && m.appName === appName);
    const complete = until ? until(parsed) : parsed.length >= count;
    if (complete || Date.now() > deadline) return parsed;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function creationMs(record: ReceivedRecord): number {
  return Date.parse(`${record.record.CreationTime}Z`);
}

/** Checks one message against its record, per format; returns the record Id it carries. */
function checkMessage(
  format: SyslogFormat,
  msg: string,
  byId: Map<string, ReceivedRecord>,
): string {
  if (format === "json") {
    const id = (JSON.parse(msg) as { Id: string }).Id;
    expect(msg).toBe(byId.get(id)!.raw);
    return id;
  }
  if (format === "cef") {
    const cef = parseCef(msg);
    const id = cef.extension.externalId!;
    const r = byId.get(id)!.record;
    expect(cef).toMatchObject({
      version: "CEF:0",
      vendor: "Microsoft",
      product: "Microsoft 365",
      signatureId: r.Operation,
      name: r.Operation,
    });
    expect(cef.extension.rt).toBe(String(creationMs(byId.get(id)!)));
    expect(cef.extension.act).toBe(r.Operation);
    expect(cef.extension.suser).toBe(r.UserId);
    expect(cef.extension.src).toBe(expectedIp(r.ClientIP));
    expect(cefLabelled(cef.extension)).toEqual({
      Workload: r.Workload,
      RecordType: recordTypeName(r.RecordType),
      ObjectId: r.ObjectId,
      ResultStatus: r.ResultStatus,
      ContentType: CONTENT_TYPE,
    });
    return id;
  }
  const leef = parseLeef(msg);
  const a = leef.attributes;
  const id = a.externalId!;
  const r = byId.get(id)!.record;
  expect(leef.eventId).toBe(r.Operation);
  expect(leef.delimiter).toBe("\t");
  expect(a.usrName).toBe(r.UserId);
  expect(a.src).toBe(expectedIp(r.ClientIP));
  expect(a.devTimeFormat).toBe("yyyy-MM-dd'T'HH:mm:ss.SSSX");
  expect(Date.parse(a.devTime!)).toBe(creationMs(byId.get(id)!));
  expect(a.cat).toBe(recordTypeName(r.RecordType));
  expect(a.Workload).toBe(r.Workload);
  // LEEF has no escape for its delimiter: tabs and newlines in values become spaces.
  expect(a.ObjectId).toBe(String(r.ObjectId).replace(/[\t\r\n]/g, " "));
  expect(a.ResultStatus).toBe(r.ResultStatus);
  return id;
}

for (const transport of ["tcp", "tls", "udp"] as const) {
  describe(`SyslogSink over ${transport} to rsyslogd`, () => {
    let receiver: Rsyslog;
    beforeAll(async () => {
      receiver = await startRsyslog(transport);
    });
    afterAll(async () => {
      await receiver?.dispose();
    });

    for (const format of ["cef", "leef", "json"] as const) {
      it(`delivers every record exactly once as ${format}, and each reads back to its values`, async () => {
        const appName = `ab-${transport}-${format}`;
        const records = auditRecords(1, 240);
        const sink = sinkFor(receiver, transport, { format, appName });
        await sink.start(undefined);
        for (const batch of batches(records, transport === "udp" ? 10 : 40)) {
          expect(await sink.deliver(batch)).toEqual({ kind: "success" });
          // UDP has no back-pressure: pace it so a loaded test machine's receiver keeps up.
          if (transport === "udp") await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await sink.close();
        const messages = await messagesOf(receiver, appName, records.length);
        const byId = new Map(records.map((r) => [r.id, r]));
        const ids = messages.map((m) => {
          expect(m.hostname).toBe("collector-test");
          expect(m.msgId).toBe(CONTENT_TYPE);
          expect(m.facility).toBe(13);
          const id = checkMessage(format, m.msg, byId);
          expect(m.timestamp).toBe(new Date(creationMs(byId.get(id)!)).toISOString());
          return id;
        });
        expect(ids.length).toBe(records.length);
        expect(new Set(ids)).toEqual(new Set(byId.keys()));
      });
    }

    it("shortens a record over SYSLOG_MAX_MESSAGE_BYTES visibly, and the receiver gets it whole", async () => {
      const appName = `ab-${transport}-long`;
      const records = auditRecords(500, 3, 5000);
      const truncated: string[] = [];
      const sink = sinkFor(receiver, transport, {
        format: "json",
        appName,
        maxMessageBytes: 2048,
        onTruncated: (t) => truncated.push(t.id),
      });
      await sink.start(undefined);
      expect(await sink.deliver(batches(records, 10)[0]!)).toEqual({ kind: "success" });
      await sink.close();
      const messages = await messagesOf(receiver, appName, 3);
      expect(truncated).toEqual(records.map((r) => r.id));
      for (const m of messages) {
        const body = JSON.parse(m.msg) as Record<string, unknown>;
        const original = records.find((r) => r.id === body.Id)!;
        expect(body).toMatchObject({
          Id: original.id,
          CreationTime: original.record.CreationTime,
          Operation: original.record.Operation,
          AuditBridgeTruncated: { originalBytes: Buffer.byteLength(original.raw) },
        });
        expect(Buffer.byteLength(m.msg)).toBeLessThan(2048);
      }
    });
  });
}

describe("SyslogSink over TLS with the wrong CA", () => {
  let receiver: Rsyslog;
  let otherCa: string;
  beforeAll(async () => {
    receiver = await startRsyslog("tls");
    otherCa = (await createTestPki(mkdtempSync(join(tmpdir(), "auditbridge-other-ca-")))).caFile;
  });
  afterAll(async () => {
    await receiver?.dispose();
    rmSync(dirname(otherCa), { recursive: true, force: true });
  });

  it("fails (no endless retry) and says to set SYSLOG_CA_FILE", async () => {
    const sink = sinkFor(receiver, "tls", { caFile: otherCa, appName: "ab-wrong-ca" });
    await sink.start(undefined);
    const outcome = await sink.deliver(batches(auditRecords(1, 2), 2)[0]!);
    await sink.close();
    expect((outcome as { error: Error }).error.message).toMatch(/does not verify.*SYSLOG_CA_FILE/);
    expect(outcome.kind).toBe("failure");
  });
});

for (const transport of ["tcp", "tls"] as const) {
  describe(`SyslogSink over ${transport} across a receiver restart`, () => {
    let receiver: Rsyslog;
    beforeAll(async () => {
      receiver = await startRsyslog(transport);
    });
    afterAll(async () => {
      await receiver?.dispose();
    });

    it("loses nothing; repeats are only the replayed messages or batches answered retryable", async () => {
      const appName = `ab-${transport}-restart`;
      const records = auditRecords(1000, 2000);
      const replayed = new Set<string>();
      const retried = new Set<string>();
      const sink = sinkFor(receiver, transport, {
        format: "cef",
        appName,
        onReplay: (ids) => {
          for (const id of ids) replayed.add(id);
        },
      });
      await sink.start(undefined);
      let restarted = false;
      let retryable = 0;
      const all = batches(records, 25);
      for (const [index, batch] of all.entries()) {
        if (index === Math.floor(all.length / 2)) {
          // The receiver goes away and comes back on the same port while batches keep coming.
          const restarting = receiver.restart().then(() => {
            restarted = true;
          });
          await new Promise((resolve) => setTimeout(resolve, 20));
          void restarting;
        }
        // Paced so the restart falls in the middle of the run.
        await new Promise((resolve) => setTimeout(resolve, 10));
        // What the pipeline does: deliver again after `retryable` until it succeeds.
        for (;;) {
          const outcome = await sink.deliver(batch);
          if (outcome.kind === "success") break;
          expect(outcome.kind).toBe("retryable");
          retryable++;
          for (const r of batch.records) retried.add(r.id);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      while (!restarted) await new Promise((resolve) => setTimeout(resolve, 50));
      await sink.close();
      // Repeats count too: wait for every record's Id, not for a number of messages.
      const messages = await messagesOf(receiver, appName, records.length, (received) => {
        const ids = new Set(received.map((m) => parseCef(m.msg).extension.externalId));
        return records.every((r) => ids.has(r.id));
      });
      const counts = new Map<string, number>();
      for (const m of messages) {
        const id = parseCef(m.msg).extension.externalId!;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const missing = records.filter((r) => !counts.has(r.id)).map((r) => r.id);
      expect(missing).toEqual([]);
      const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
      const unexplained = repeated.filter((id) => !replayed.has(id) && !retried.has(id));
      expect(unexplained).toEqual([]);
      expect(restarted).toBe(true);
      // The drop was seen: either batches were answered retryable or the tail was replayed.
      expect(retryable + replayed.size).toBeGreaterThan(0);
    }, 60_000);
  });
}
