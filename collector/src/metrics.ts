import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * The collector's Prometheus metrics, one set per process (served on `/metrics`). main.ts
 * creates the set and hands it to every part that counts something; a part given none (a test,
 * a benchmark) creates a private set on its own registry.
 */
export function createMetrics(registry: Registry = new Registry()) {
  const prefix = "auditbridge_";
  return {
    registry,
    recordsReceived: new Counter({
      name: `${prefix}records_received_total`,
      help: "Audit records parsed from content blobs, by content type.",
      labelNames: ["content_type"],
      registers: [registry],
    }),
    recordsDelivered: new Counter({
      name: `${prefix}records_delivered_total`,
      help: "Audit records acknowledged by every sink, by content type.",
      labelNames: ["content_type"],
      registers: [registry],
    }),
    recordsDuplicate: new Counter({
      name: `${prefix}records_duplicate_total`,
      help: "Audit records dropped because their Id was already delivered, by content type.",
      labelNames: ["content_type"],
      registers: [registry],
    }),
    recordsSkipped: new Counter({
      name: `${prefix}records_skipped_total`,
      help: "Audit records not delivered (no Id, unparseable), by content type and reason.",
      labelNames: ["content_type", "reason"],
      registers: [registry],
    }),
    recordsOversize: new Counter({
      name: `${prefix}records_oversize_total`,
      help: "Records whose AuditData exceeds the 64 KB Log Analytics field limit, by content type and action taken.",
      labelNames: ["content_type", "action"],
      registers: [registry],
    }),
    blobsFetched: new Counter({
      name: `${prefix}blobs_fetched_total`,
      help: "Content blobs fetched and fully parsed, by content type.",
      labelNames: ["content_type"],
      registers: [registry],
    }),
    blobsSkipped: new Counter({
      name: `${prefix}blobs_skipped_total`,
      help: "Content blobs skipped, by content type and reason (expired, missing, refused-uri).",
      labelNames: ["content_type", "reason"],
      registers: [registry],
    }),
    blobsQuarantined: new Counter({
      name: `${prefix}blobs_quarantined_total`,
      help: "Malformed content blobs kept for inspection after retries, by content type.",
      labelNames: ["content_type"],
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: `${prefix}api_requests_total`,
      help: "Management Activity API requests, by operation, HTTP status and API error code.",
      labelNames: ["operation", "status", "code"],
      registers: [registry],
    }),
    throttleWaitSeconds: new Counter({
      name: `${prefix}throttle_wait_seconds_total`,
      help: "Seconds spent waiting after throttling answers (AF429, 429), by target.",
      labelNames: ["target"],
      registers: [registry],
    }),
    apiPacerRequestsPerMinute: new Gauge({
      name: `${prefix}api_pacer_requests_per_minute`,
      help: "Rate the Management Activity API request pacer spends now (the budget, lower after AF429 answers).",
      registers: [registry],
    }),
    apiPacerWaitSeconds: new Counter({
      name: `${prefix}api_pacer_wait_seconds_total`,
      help: "Seconds Management Activity API requests waited for the request pacer.",
      registers: [registry],
    }),
    apiThrottled: new Counter({
      name: `${prefix}api_throttled_total`,
      help: "Throttling answers (AF429, HTTP 429) from the Management Activity API, by operation.",
      labelNames: ["operation"],
      registers: [registry],
    }),
    tokenRefreshes: new Counter({
      name: `${prefix}token_refreshes_total`,
      help: "Access tokens obtained, by audience.",
      labelNames: ["audience"],
      registers: [registry],
    }),
    sinkMessagesTruncated: new Counter({
      name: `${prefix}sink_messages_truncated_total`,
      help: "Messages a sink shortened to its size limit (SYSLOG_MAX_MESSAGE_BYTES), marked AuditBridgeTruncated, by sink and content type.",
      labelNames: ["sink", "content_type"],
      registers: [registry],
    }),
    sinkRequests: new Counter({
      name: `${prefix}sink_requests_total`,
      help: "Delivery attempts per sink, by outcome.",
      labelNames: ["sink", "outcome"],
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: `${prefix}lag_seconds`,
      help: "Now minus the newest contentCreated delivered, by content type.",
      labelNames: ["content_type"],
      registers: [registry],
    }),
    checkpointAgeSeconds: new Gauge({
      name: `${prefix}checkpoint_age_seconds`,
      help: "Seconds since the checkpoint of a content type was last written.",
      labelNames: ["content_type"],
      registers: [registry],
    }),
    requestDurationSeconds: new Histogram({
      name: `${prefix}api_request_duration_seconds`,
      help: "Management Activity API request duration, by operation.",
      labelNames: ["operation"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/** The metrics every part of the collector counts into. */
export type CollectorMetrics = ReturnType<typeof createMetrics>;
