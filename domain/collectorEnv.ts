/**
 * The collector's environment contract: every variable it reads, which are secrets, and the
 * defaults other parts (the Pulumi component, the commands) must agree with.
 */

/** Every environment variable the collector reads. */
export const ENV_KEYS = [
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PATH",
  "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  "AUDIT_FEDERATED_IDENTITY_CLIENT_ID",
  "AUDIT_MANAGED_IDENTITY_CLIENT_ID",
  "O365_CLOUD",
  "AZURE_AUTHORITY_HOST",
  "O365_MANAGEMENT_ENDPOINT",
  "O365_CONTENT_TYPES",
  "O365_PUBLISHER_ID",
  "AUDIT_STATE",
  "AZURE_STORAGE_CONNECTION_STRING",
  "AUDIT_SINK",
  "AUDIT_FILE_PATH",
  "AUDIT_QUARANTINE_DIR",
  "LOGS_INGESTION_ENDPOINT",
  "LOGS_INGESTION_RULE_ID",
  "LOGS_INGESTION_STREAM",
  "AUDIT_INITIAL_LOOKBACK",
  "AUDIT_POLL_INTERVAL",
  "AUDIT_RELIST_OVERLAP",
  "AUDIT_HTTP_PORT",
  "AUDIT_HTTP_HOST",
  "AUDIT_LOG_LEVEL",
  "AUDIT_PARSE_WORKERS",
] as const;
export type EnvKey = (typeof ENV_KEYS)[number];

/** Secrets: environment only (a flag would show in `ps` and shell history), never echoed. */
export const SECRET_KEYS: ReadonlySet<EnvKey> = new Set<EnvKey>([
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  "AZURE_STORAGE_CONNECTION_STRING",
]);

/** Port of /healthz, /livez and /metrics: next to Prometheus exporters' usual range. */
export const DEFAULT_HTTP_PORT = 9464;
/** Loopback by default; the container image sets AUDIT_HTTP_HOST=0.0.0.0 for probes. */
export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_STATE = "sqlite:./.auditbridge/state.db";
export const DEFAULT_FILE_PATH = "./.auditbridge/audit.ndjson";

export const SINK_KINDS = ["logs-ingestion", "file", "stdout"] as const;
export type SinkKind = (typeof SINK_KINDS)[number];
