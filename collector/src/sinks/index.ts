import type { TokenCredential } from "@azure/core-auth";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { Batch, DeliveryOutcome, OperationOptions, Sink } from "../types";
import { FileSink, type FileSinkOptions } from "./fileSink";
import { LogsIngestionSink, type LogsIngestionSinkOptions } from "./logsIngestionSink";
import { SplunkHecSink, type SplunkHecSinkOptions } from "./splunkHecSink";
import { StdoutSink, type StdoutSinkOptions } from "./stdoutSink";
import { SyslogSink, type SyslogSinkOptions } from "./syslogSink";

export { fitAuditData, LOG_ANALYTICS_FIELD_LIMIT_BYTES, type TruncationReport } from "./fieldLimit";
export { FileSink, type FileSinkOptions, parseFilePosition } from "./fileSink";
export { LogsIngestionSink, type LogsIngestionSinkOptions, toAuditRow } from "./logsIngestionSink";
export * from "./siemSettings";
export {
  classifyHecAnswer,
  SplunkHecSink,
  type SplunkHecSinkOptions,
} from "./splunkHecSink";
export { StdoutSink, type StdoutSinkOptions } from "./stdoutSink";
export { SyslogSink, type SyslogSinkOptions, type SyslogTruncation } from "./syslogSink";

/** Sink names accepted by `AUDIT_SINK`. */
export const SINK_NAMES = ["logs-ingestion", "file", "stdout", "syslog", "splunk-hec"] as const;
export type SinkName = (typeof SINK_NAMES)[number];

/** Options per sink name; `createSink` checks that the right ones are present. */
export interface SinkFactoryOptions {
  file?: Omit<FileSinkOptions, "logger">;
  stdout?: StdoutSinkOptions;
  "logs-ingestion"?: Omit<LogsIngestionSinkOptions, "credential" | "metrics" | "logger"> & {
    credential: TokenCredential;
  };
  syslog?: Omit<SyslogSinkOptions, "logger" | "onTruncated">;
  "splunk-hec"?: Omit<SplunkHecSinkOptions, "logger">;
  /**
   * Counts messages a sink shortened to its size limit (`sink_messages_truncated_total{sink,
   * content_type}` on /metrics); a prom-client Counter fits.
   */
  truncatedMessages?: TruncationCounter;
  metrics?: CollectorMetrics;
  logger?: Logger;
}

/** The part of a prom-client Counter that counts shortened messages. */
export interface TruncationCounter {
  inc(labels: { sink: string; content_type: string }, value?: number): void;
}

/** True when `name` is a known sink name. */
export function isSinkName(name: string): name is SinkName {
  return (SINK_NAMES as readonly string[]).includes(name);
}

/**
 * Builds a sink by name, wrapped with `withMetrics` when metrics are given. Throws a one-line
 * error naming the missing setting.
 */
export function createSink(name: string, options: SinkFactoryOptions): Sink {
  let sink: Sink;
  switch (name) {
    case "file": {
      if (!options.file) throw new Error("AUDIT_SINK=file needs AUDIT_FILE_PATH");
      sink = new FileSink({
        ...options.file,
        ...(options.logger ? { logger: options.logger } : {}),
      });
      break;
    }
    case "stdout":
      sink = new StdoutSink(options.stdout);
      break;
    case "logs-ingestion": {
      const settings = options["logs-ingestion"];
      if (!settings) {
        throw new Error(
          "AUDIT_SINK=logs-ingestion needs LOGS_INGESTION_ENDPOINT and LOGS_INGESTION_RULE_ID",
        );
      }
      sink = new LogsIngestionSink({
        ...settings,
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      break;
    }
    case "syslog": {
      const settings = options.syslog;
      if (!settings) throw new Error("AUDIT_SINK=syslog needs SYSLOG_URL");
      const counter = options.truncatedMessages;
      const sinkName = settings.name ?? "syslog";
      sink = new SyslogSink({
        ...settings,
        ...(counter
          ? {
              onTruncated: (t) => counter.inc({ sink: sinkName, content_type: t.contentType }),
            }
          : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      break;
    }
    case "splunk-hec": {
      const settings = options["splunk-hec"];
      if (!settings) {
        throw new Error("AUDIT_SINK=splunk-hec needs SPLUNK_HEC_URL and SPLUNK_HEC_TOKEN");
      }
      sink = new SplunkHecSink({
        ...settings,
        ...(options.logger ? { logger: options.logger } : {}),
      });
      break;
    }
    default:
      throw new Error(
        `AUDIT_SINK "${name}" is not a known sink; use one of ${SINK_NAMES.join(", ")}`,
      );
  }
  return options.metrics ? withMetrics(sink, options.metrics) : sink;
}

/**
 * Wraps a sink so every delivery attempt is counted in `sink_requests_total{sink,outcome}`.
 * Same interface in and out: wrappers stack (retry, batching, metrics) and the pipeline never
 * knows. A delivery that throws is counted as `error` and rethrown.
 */
export function withMetrics(sink: Sink, metrics: CollectorMetrics): Sink {
  return {
    name: sink.name,
    // A wrapper must not hide what the sink reads: the source keeps parsed records (and skips
    // the parse workers) only when some sink says it reads them.
    usesParsedRecords: sink.usesParsedRecords,
    // Nor what it asks the parse workers to build.
    auditRows: sink.auditRows,
    recordEncoding: sink.recordEncoding,
    start: (position: string | undefined, options?: OperationOptions) =>
      sink.start(position, options),
    async deliver(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome> {
      try {
        const outcome = await sink.deliver(batch, options);
        metrics.sinkRequests.inc({ sink: sink.name, outcome: outcome.kind });
        return outcome;
      } catch (error) {
        metrics.sinkRequests.inc({ sink: sink.name, outcome: "error" });
        throw error;
      }
    },
    close: () => sink.close(),
  };
}
