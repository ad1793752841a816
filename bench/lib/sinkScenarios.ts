/**
 * Per-sink scenarios of `npm run bench`: the `throughput` backlog delivered by the real collector
 * (`run --once`, SQLite state) to each SIEM sink — syslog into a local rsyslogd, Splunk HEC into
 * the emulator's receiver, and the Logs Ingestion + syslog fan-out — each checked at the receiver
 * by record Id against the emulator's ground truth (0 lost, 0 duplicated is the expectation).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Emulator, HecEvent } from "../../emulator/src/index";
import {
  type BenchOptions,
  type BenchResult,
  backlogScenario,
  drainIngestedRows,
  type Figure,
  mb,
  prepareServing,
  truthLine,
  withoutSample,
  withWorkspace,
} from "./benchScenarios";
import { collectorEnv, runCollectorOnce, type SinkSetup, type SyslogSetup } from "./collector";
import { formatInt, formatMb, formatSeconds, sleep } from "./common";
import { SETTLED_BACKDATE_MS, startBenchEmulator } from "./emulatorSetup";
import { type Rsyslog, startRsyslog, type Transport } from "./rsyslog";
import {
  compareWithTruth,
  countDelivery,
  type DeliveryCounts,
  normaliseIds,
  type TruthComparison,
} from "./truth";

/** Issue #13: syslog through the whole collector to a local rsyslog. */
export const SINK_TARGETS = { syslogRecordsPerSecond: 20_000 } as const;

/** How often deliveries are taken out of the emulator's receivers while the collector runs. */
const RECEIVER_DRAIN_INTERVAL_MS = 500;
/** rsyslog has written everything once its output file stops growing for this long. */
const RSYSLOG_QUIET_MS = 2_000;
/** Longest wait for rsyslog to write what the collector sent before it exited. */
const RSYSLOG_DRAIN_TIMEOUT_MS = 300_000;

/** What one receiver got, counted by record Id. */
interface Received {
  /** Figure-key prefix and label, e.g. `syslog`, `splunkHec`, `logsIngestion`. */
  key: string;
  counts: DeliveryCounts;
  figures: Record<string, Figure>;
  lines: string[];
}

/** The far end of a scenario: what the collector is pointed at, and how to read it back. */
interface Receiver {
  sink: SinkSetup;
  /** Describes the receiver for the progress line. */
  description: string;
  /** Called every {@link RECEIVER_DRAIN_INTERVAL_MS} while the collector runs. */
  drain?(): void;
  /** After the collector exited: everything the receivers got. */
  collect(): Promise<Received[]>;
  dispose(): Promise<void>;
}

/** The record Id in one line rsyslog wrote (`%rawmsg%`: the RFC 5424 message), or undefined. */
export function syslogRecordId(line: string, format: SyslogSetup["format"]): string | undefined {
  if (format === "json") {
    // The header (PRI, time, host, app, MSGID) has no brace; the message is the record's JSON,
    // or its key fields when it was too long. Parsed, because repeats may come reordered.
    const start = line.indexOf("{");
    if (start < 0) return undefined;
    try {
      const id = (JSON.parse(line.slice(start)) as { Id?: unknown }).Id;
      return typeof id === "string" ? id : undefined;
    } catch {
      return undefined;
    }
  }
  // CEF escapes `=` inside extension values, so `externalId=` after the header's last `|` or a
  // space can only be the key; LEEF 2.0 separates attributes with a tab, which values never
  // contain (the sink turns tabs into spaces).
  const match =
    format === "cef" ? /[| ]externalId=([^ ]+)/.exec(line) : /[|\t]externalId=([^\t]+)/.exec(line);
  return match?.[1];
}

/** Waits until rsyslog's output file stops growing; returns how long that took. */
async function waitForQuietFile(file: string): Promise<number> {
  const startedMs = performance.now();
  let size = -1;
  let changedMs = performance.now();
  while (performance.now() - startedMs < RSYSLOG_DRAIN_TIMEOUT_MS) {
    const now = (await stat(file).catch(() => undefined))?.size ?? 0;
    if (now !== size) {
      size = now;
      changedMs = performance.now();
    } else if (performance.now() - changedMs >= RSYSLOG_QUIET_MS) {
      return changedMs - startedMs;
    }
    await sleep(100);
  }
  throw new Error(
    `rsyslog was still writing ${formatSeconds(RSYSLOG_DRAIN_TIMEOUT_MS)} after the collector exited`,
  );
}

/** Streams rsyslog's output file and counts the record Id of every message. */
async function readSyslogIds(
  rsyslog: Rsyslog,
  format: SyslogSetup["format"],
): Promise<{ counts: DeliveryCounts; otherLines: number; bytes: number }> {
  const counts: DeliveryCounts = new Map();
  let otherLines = 0;
  const lines = createInterface({
    input: createReadStream(rsyslog.outFile, { encoding: "utf8", highWaterMark: 1 << 20 }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (line === "") continue;
    const id = syslogRecordId(line, format);
    // rsyslogd's own start message lands in the same file; a broken message shows as lost.
    if (id === undefined) otherLines++;
    else countDelivery(counts, id.toLowerCase());
  }
  return { counts, otherLines, bytes: (await stat(rsyslog.outFile)).size };
}

/** A local rsyslogd (mutual TLS for `tls`) and a way to read back what it wrote. */
async function syslogReceiver(
  transport: Exclude<Transport, "udp">,
  format: SyslogSetup["format"],
): Promise<{ setup: SyslogSetup; rsyslog: Rsyslog; collect(): Promise<Received> }> {
  const rsyslog = await startRsyslog(transport);
  const setup: SyslogSetup = {
    url: `${transport}://127.0.0.1:${rsyslog.port}`,
    format,
    ...(rsyslog.pki
      ? {
          caFile: rsyslog.pki.caFile,
          clientCertFile: rsyslog.pki.clientCertFile,
          clientKeyFile: rsyslog.pki.clientKeyFile,
        }
      : {}),
  };
  return {
    setup,
    rsyslog,
    async collect() {
      const drainMs = await waitForQuietFile(rsyslog.outFile);
      const { counts, otherLines, bytes } = await readSyslogIds(rsyslog, format);
      return {
        key: "syslog",
        counts,
        figures: {
          syslogBytesWritten: bytes,
          syslogOtherLines: otherLines,
          syslogReceiverDrainMs: Math.round(drainMs),
        },
        lines: [
          `rsyslog wrote ${formatMb(bytes)} (${formatInt(otherLines)} lines of its own); it finished ${formatSeconds(drainMs)} after the collector exited`,
        ],
      };
    },
  };
}

function syslogOnly(transport: Exclude<Transport, "udp">, format: SyslogSetup["format"]) {
  return async (): Promise<Receiver> => {
    const receiver = await syslogReceiver(transport, format);
    return {
      sink: { kind: "syslog", syslog: receiver.setup },
      description: `syslog ${format.toUpperCase()} over ${transport.toUpperCase()}${transport === "tls" ? " (mutual TLS)" : ""} → local rsyslogd`,
      collect: async () => [await receiver.collect()],
      dispose: () => receiver.rsyslog.dispose(),
    };
  };
}

/** The emulator's Splunk HEC receiver; the token's indexer acknowledgement matches the sink's. */
function splunkHec(ack: boolean) {
  return async (emulator: Emulator): Promise<Receiver> => {
    emulator.splunkHec.knobs.ackEnabled = ack;
    const counts: DeliveryCounts = new Map();
    // The receiver keeps every event's text; taken out as they arrive (gigabytes otherwise).
    const drain = () => {
      const taken = (emulator.splunkHec.events() as HecEvent[]).splice(0);
      for (const event of taken) {
        const id = (JSON.parse(event.eventText) as { Id?: unknown }).Id;
        if (typeof id === "string") countDelivery(counts, id.toLowerCase());
      }
    };
    return {
      sink: { kind: "splunk-hec", ack },
      description: `Splunk HEC ${ack ? "with" : "without"} indexer acknowledgement → the emulator's HEC receiver`,
      drain,
      async collect() {
        drain();
        const requests = emulator.splunkHec.requests();
        const answers = emulator.truth
          .requestLog()
          .filter((entry) => entry.path.startsWith("/services/collector"));
        const refused = answers.filter((entry) => entry.status >= 300).length;
        let delivered = 0;
        for (const n of counts.values()) delivered += n;
        return [
          {
            key: "splunkHec",
            counts,
            figures: {
              splunkHecAck: ack,
              splunkHecEventRequests: requests,
              splunkHecRequestsRefused: refused,
              splunkHecEventsPerRequest: requests > 0 ? Math.round(delivered / requests) : 0,
            },
            lines: [
              `HEC: ${formatInt(requests)} event requests (${formatInt(answers.length - requests)} ack polls, ${refused} refused), ${formatInt(requests > 0 ? delivered / requests : 0)} events per request (1 MB per request)`,
            ],
          },
        ];
      },
      dispose: async () => {},
    };
  };
}

/** Logs Ingestion (the emulator) and syslog CEF over TCP (rsyslogd), every batch to both. */
async function fanOut(emulator: Emulator): Promise<Receiver> {
  const syslog = await syslogReceiver("tcp", "cef");
  const ingested: DeliveryCounts = new Map();
  const drain = () => drainIngestedRows(emulator.truth.ingestedRows(), ingested);
  return {
    sink: { kind: "logs-ingestion+syslog", syslog: syslog.setup },
    description:
      "fan-out: Logs Ingestion API (emulated) and syslog CEF over TCP → local rsyslogd; a batch counts once both acknowledged",
    drain,
    async collect() {
      drain();
      return [
        await syslog.collect(),
        { key: "logsIngestion", counts: ingested, figures: {}, lines: [] },
      ];
    },
    dispose: () => syslog.rsyslog.dispose(),
  };
}

/** Adds up several receivers' comparisons (a fan-out must deliver every record to each). */
function sumTruth(comparisons: readonly TruthComparison[]): TruthComparison {
  const sum = (pick: (t: TruthComparison) => number) =>
    comparisons.reduce((total, t) => total + pick(t), 0);
  return {
    expected: sum((t) => t.expected),
    delivered: sum((t) => t.delivered),
    lost: sum((t) => t.lost),
    duplicated: sum((t) => t.duplicated),
    unexpected: sum((t) => t.unexpected),
    lostSample: comparisons.flatMap((t) => t.lostSample).slice(0, 5),
  };
}

interface SinkScenarioSpec {
  name: string;
  receiver: (emulator: Emulator) => Promise<Receiver>;
  targetRecordsPerSecond?: number;
}

/** Runs the backlog into one receiver setup and compares what arrived with the ground truth. */
async function sinkScenario(spec: SinkScenarioSpec, options: BenchOptions): Promise<BenchResult> {
  const { emulator } = await startBenchEmulator({
    seed: options.seed,
    scenario: backlogScenario(options.records),
    backdateMs: SETTLED_BACKDATE_MS,
  });
  try {
    return await withWorkspace(`bench-${spec.name}`, async (ws) => {
      const expected = normaliseIds(emulator.truth.expectedRecordIds());
      const receiver = await spec.receiver(emulator);
      try {
        options.log(
          `${spec.name}: ${formatInt(expected.size)} unique records; collector run --once → ${receiver.description}`,
        );
        const serving = prepareServing(emulator, options);
        const drainer = receiver.drain
          ? setInterval(receiver.drain, RECEIVER_DRAIN_INTERVAL_MS)
          : undefined;
        let exit: Awaited<ReturnType<typeof runCollectorOnce>>;
        try {
          exit = await runCollectorOnce({
            env: collectorEnv({
              emulator,
              state: ws.statePath,
              sink: receiver.sink,
              quarantineDir: ws.quarantineDir,
            }),
          });
        } finally {
          if (drainer) clearInterval(drainer);
        }
        const received = await receiver.collect();
        const truths = received.map((r) => ({ r, truth: compareWithTruth(expected, r.counts) }));
        const truth = sumTruth(truths.map((t) => t.truth));
        // Records that reached every receiver, over the collector's whole run (start to exit).
        const records = Math.min(...truths.map((t) => t.truth.expected - t.truth.lost));
        const seconds = exit.elapsedMs / 1000;
        const recordsPerSecond = records / seconds;
        const figures: Record<string, Figure> = {
          records,
          elapsedMs: Math.round(exit.elapsedMs),
          recordsPerSecond: Math.round(recordsPerSecond),
          peakRssMb: mb(exit.peakRssBytes),
          emulatorPrerendered: !options.renderOnDemand,
          ...(spec.targetRecordsPerSecond
            ? { targetRecordsPerSecond: spec.targetRecordsPerSecond }
            : {}),
        };
        for (const { r, truth: t } of truths) {
          Object.assign(figures, r.figures);
          figures[`${r.key}Delivered`] = t.delivered;
          figures[`${r.key}Lost`] = t.lost;
          figures[`${r.key}Duplicated`] = t.duplicated;
        }
        const target = spec.targetRecordsPerSecond
          ? ` (target ≥ ${formatInt(spec.targetRecordsPerSecond)} records/s)`
          : "";
        return {
          scenario: options.renderOnDemand ? `${spec.name}-render-on-demand` : spec.name,
          figures,
          lines: [
            `${spec.name}: ${formatInt(records)} records in ${formatSeconds(exit.elapsedMs)} = ${formatInt(recordsPerSecond)} records/s${target} (${serving})`,
            `collector peak RSS ${mb(exit.peakRssBytes)} MB`,
            ...truths.flatMap(({ r, truth: t }) => [
              ...r.lines,
              `${truths.length > 1 ? `${r.key} ` : ""}${truthLine(t)}`,
            ]),
          ],
          truth: withoutSample(truth),
        };
      } finally {
        await receiver.dispose();
      }
    });
  } finally {
    await emulator.stop();
  }
}

const SPECS: readonly SinkScenarioSpec[] = [
  {
    name: "syslog-cef-tcp",
    receiver: syslogOnly("tcp", "cef"),
    targetRecordsPerSecond: SINK_TARGETS.syslogRecordsPerSecond,
  },
  {
    name: "syslog-leef-tls",
    receiver: syslogOnly("tls", "leef"),
    targetRecordsPerSecond: SINK_TARGETS.syslogRecordsPerSecond,
  },
  {
    name: "syslog-json-tls",
    receiver: syslogOnly("tls", "json"),
    targetRecordsPerSecond: SINK_TARGETS.syslogRecordsPerSecond,
  },
  { name: "splunk-hec", receiver: splunkHec(false) },
  { name: "splunk-hec-ack", receiver: splunkHec(true) },
  { name: "fanout-ingestion-syslog", receiver: fanOut },
];

/** The per-sink scenarios in run order, by name (after BENCH_SCENARIOS in `npm run bench`). */
export const SINK_SCENARIOS: Record<string, (options: BenchOptions) => Promise<BenchResult>> =
  Object.fromEntries(
    SPECS.map((spec) => [spec.name, (options: BenchOptions) => sinkScenario(spec, options)]),
  );
