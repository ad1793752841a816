import type { TokenCredential } from "@azure/identity";
import type { CollectorConfig } from "../config";
import { heapSizes } from "../containerLimits";
import { countTokenRefreshes, createAppCredential, createAzureCredential } from "../credentials";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import { createSink } from "../sinks";
import { ActivitySource } from "../source/activitySource";
import { ManagementApiClient } from "../source/client";
import { ParseWorkerPool } from "../source/parseWorkers";
import { BlobStateStore } from "../state/blobState";
import { ThreadedSqliteStateStore } from "../state/threadedState";
import type { Sink, Source, StateStore } from "../types";

/** The parts built from the configuration, before anything connects. */
export interface CollectorParts {
  appCredential: TokenCredential;
  azureCredential: TokenCredential;
  client: ManagementApiClient;
  source: Source;
  sinks: Sink[];
  state: StateStore;
  /** Parse worker threads, when blobs are parsed off the main thread; closed by the caller. */
  parseWorkers: ParseWorkerPool | undefined;
}

/**
 * Builds the credentials, the Management API client, the source, the sinks and the state store
 * named by the configuration. Nothing connects yet.
 */
export function buildParts(
  config: CollectorConfig,
  metrics: CollectorMetrics,
  logger: Logger,
): CollectorParts {
  const appCredential = countTokenRefreshes(createAppCredential(config, metrics), metrics);
  const azureCredential =
    config.azureManagedIdentityClientId === undefined
      ? appCredential
      : countTokenRefreshes(createAzureCredential(config, appCredential), metrics);
  const client = new ManagementApiClient({
    baseUrl: config.cloud.managementEndpoint,
    tenantId: config.tenantId,
    publisherId: config.publisherId,
    credential: appCredential,
    audience: config.cloud.managementAudience,
    requestsPerMinute: config.apiRequestsPerMinute,
    metrics,
    logger: logger.child({ component: "management-api" }),
  });
  const sinks = config.sinks.map((sink) =>
    createSink(sink.kind, {
      ...(sink.kind === "file" ? { file: { path: sink.path } } : {}),
      ...(sink.kind === "logs-ingestion"
        ? {
            "logs-ingestion": {
              endpoint: sink.endpoint,
              ruleId: sink.ruleId,
              streamName: sink.stream,
              credential: azureCredential,
              audience: config.cloud.monitorAudience,
            },
          }
        : {}),
      ...(sink.kind === "syslog" ? { syslog: sink.settings } : {}),
      ...(sink.kind === "splunk-hec" ? { "splunk-hec": sink.settings } : {}),
      truncatedMessages: metrics.sinkMessagesTruncated,
      metrics,
      logger: logger.child({ component: `${sink.kind}-sink` }),
    }),
  );
  // Worker threads pay off only when records can stay bytes until a sink writes them (or sends
  // what the workers encoded for it). A sink that reads parsed records only to encode them has
  // its encoding built there instead (one parse per record, one encoding per sink).
  const useWorkers =
    config.parseWorkers > 0 &&
    sinks.every((sink) => sink.usesParsedRecords !== true || sink.recordEncoding !== undefined);
  const keepParsedRecords = !useWorkers && sinks.some((sink) => sink.usesParsedRecords === true);
  const auditRows = sinks.find((sink) => sink.auditRows !== undefined)?.auditRows;
  const encodings = sinks.flatMap((sink) =>
    sink.recordEncoding === undefined ? [] : [sink.recordEncoding],
  );
  const parseWorkers = useWorkers
    ? new ParseWorkerPool(config.parseWorkers, {
        ...(auditRows ? { auditRows } : {}),
        ...(encodings.length > 0 ? { encodings } : {}),
      })
    : undefined;
  const source = new ActivitySource({
    contentTypes: config.contentTypes,
    client,
    initialLookbackInMs: config.initialLookbackInMs,
    overlapInMs: config.relistOverlapInMs,
    quarantineDir: config.quarantineDir,
    keepParsedRecords,
    parseWorkers,
    metrics,
    logger: logger.child({ component: "source" }),
  });
  const state =
    config.state.kind === "sqlite"
      ? new ThreadedSqliteStateStore(
          { path: config.state.path },
          // Its garbage is short-lived (one commit's ids); without a cap V8 lets it pile up.
          { resourceLimits: { maxOldGenerationSizeMb: heapSizes().workerOldGenerationMb } },
        )
      : new BlobStateStore({
          container: config.state.containerUrl,
          ...(config.state.connectionString
            ? { connectionString: config.state.connectionString }
            : { credential: azureCredential }),
          // One folder per tenant, so several tenants' collectors can share a container.
          prefix: `auditbridge/${config.tenantId}`,
          logger: logger.child({ component: "blob-state" }),
        });
  return { appCredential, azureCredential, client, source, sinks, state, parseWorkers };
}
