/**
 * The Splunk HEC event envelope of one audit record
 * (https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector):
 * `{"time":…,"source":…,"sourcetype":…,"index":…,"event":<record>}`, the record embedded as its
 * raw JSON text (never re-serialized). Pure and free of the sink's dependencies, so the parse
 * worker threads build envelopes with the very code the sink uses when it builds them itself.
 */
import { creationTimeMs } from "./syslogFormat";

/** What an envelope carries besides the record. */
export interface HecEnvelopeOptions {
  contentType: string;
  sourcetype: string;
  /** Unset: the token's default index. */
  index?: string | undefined;
}

/** The envelope's fields after `time`: `,"source":…,"sourcetype":…[,"index":…],"event":`. */
export function hecEnvelopeMeta(options: HecEnvelopeOptions): string {
  return `,"source":${JSON.stringify(`auditbridge:${options.contentType}`)},"sourcetype":${JSON.stringify(
    options.sourcetype,
  )}${options.index === undefined ? "" : `,"index":${JSON.stringify(options.index)}`},"event":`;
}

/**
 * The envelope around `raw` in two parts, `head` + raw + `}`: kept apart so a worker writes the
 * record's text once, straight into the envelope's bytes. `meta` is {@link hecEnvelopeMeta}.
 */
export function hecEnvelopeHead(raw: string, meta: string): string {
  const ms = creationTimeMs(/"CreationTime"\s*:\s*"([^"]*)"/.exec(raw)?.[1]);
  const time = ms === undefined ? "" : `"time":${(ms / 1000).toFixed(3)}`;
  return `{${time}${time === "" ? meta.slice(1) : meta}`;
}

/** The whole envelope of one record. */
export function hecEnvelope(raw: string, meta: string): string {
  return `${hecEnvelopeHead(raw, meta)}${raw}}`;
}
