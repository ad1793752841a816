/**
 * The collector's environment contract, as one table: every variable it reads, the flag that
 * mirrors it, whether it is a secret, where it belongs, what it means and whether the Azure
 * deployment sets it. ENV_KEYS, SECRET_KEYS and FLAG_FOR_ENV are derived from the table, and
 * the collector adds a parser and a default to each row (collector/src/settings.ts), so a
 * setting is declared once and its flag, `--help` line, reference page (docs/collector-settings.md)
 * and the Pulumi component's environment list cannot drift apart.
 */
import { CLOUD_NAMES } from "./clouds";
import { CONTENT_TYPES } from "./contentTypes";

export const SINK_KINDS = ["logs-ingestion", "file", "stdout", "syslog", "splunk-hec"] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

/** Sinks the Pulumi deployment can configure (the file and stdout sinks are for local runs). */
export const DEPLOYED_SINK_KINDS = ["logs-ingestion", "syslog", "splunk-hec"] as const;
export type DeployedSinkKind = (typeof DEPLOYED_SINK_KINDS)[number];

/**
 * A comma list of deployed sinks (`auditbridge:sinks`, preflight's `--sinks`): case and spaces
 * ignored, repeats dropped, in {@link DEPLOYED_SINK_KINDS} order; the problem names unknown ones.
 */
export function parseDeployedSinks(
  value: string,
): { ok: true; value: DeployedSinkKind[] } | { ok: false; problem: string } {
  const names = value
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const unknown = names.filter(
    (name) => !(DEPLOYED_SINK_KINDS as readonly string[]).includes(name),
  );
  if (names.length === 0 || unknown.length > 0) {
    return {
      ok: false,
      problem: `must be a comma list of ${DEPLOYED_SINK_KINDS.join(", ")}${unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""}`,
    };
  }
  return { ok: true, value: DEPLOYED_SINK_KINDS.filter((kind) => names.includes(kind)) };
}

/** The collector's log levels (pino's): most severe first, then silent. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Kinds of app credential the collector presents to Entra ID; exactly one is configured. */
export const APP_CREDENTIAL_KINDS = ["secret", "certificate", "federated"] as const;
export type AppCredentialKind = (typeof APP_CREDENTIAL_KINDS)[number];

/** Sections of the settings reference, in the order they are shown. */
export const SETTING_GROUPS = {
  identity: "Tenant and app credential",
  api: "Cloud and Management Activity API",
  state: "Checkpoint state",
  sinks: "Sinks",
  polling: "Polling",
  process: "Process",
} as const;
export type SettingGroup = keyof typeof SETTING_GROUPS;

/** One row of {@link COLLECTOR_ENV}. */
export interface CollectorEnvSetting {
  /** The environment variable. */
  readonly env: string;
  /**
   * commander's camelCase option name of the flag that mirrors it (`pollInterval` is typed
   * `--poll-interval`); absent for secrets, which a flag would show in `ps` and shell history.
   */
  readonly flag?: string;
  /** Read from the environment only and never echoed. */
  readonly secret: boolean;
  readonly group: SettingGroup;
  /** One line for `--help` and the reference page. */
  readonly meaning: string;
  /**
   * Whether the Pulumi deployment's Container App sets it: always, never (the collector's
   * default or the image's own value applies), only with that app credential kind, or only
   * with that sink (a sink's optional file settings: when the stack gives the file).
   */
  readonly setByDeployment: "always" | "never" | AppCredentialKind | DeployedSinkKind;
}

/** Every setting of the collector, in the order `--help` and the reference page list them. */
export const COLLECTOR_ENV = [
  {
    env: "AZURE_TENANT_ID",
    flag: "tenantId",
    secret: false,
    group: "identity",
    meaning: "the Microsoft 365 tenant GUID (required)",
    setByDeployment: "always",
  },
  {
    env: "AZURE_CLIENT_ID",
    flag: "clientId",
    secret: false,
    group: "identity",
    meaning: "the app registration's Application (client) ID (required)",
    setByDeployment: "always",
  },
  {
    env: "AZURE_CLIENT_SECRET",
    secret: true,
    group: "identity",
    meaning: "client secret of the app registration (one of three app credentials)",
    setByDeployment: "secret",
  },
  {
    env: "AZURE_CLIENT_CERTIFICATE_PATH",
    flag: "clientCertificatePath",
    secret: false,
    group: "identity",
    meaning: "PEM file holding the certificate and its private key (instead of a secret)",
    setByDeployment: "certificate",
  },
  {
    env: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    secret: true,
    group: "identity",
    meaning: "password of the private key in that PEM file, if it is encrypted",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_FEDERATED_IDENTITY_CLIENT_ID",
    flag: "federatedIdentityClientId",
    secret: false,
    group: "identity",
    meaning:
      "keyless: client id of a user-assigned managed identity that is a federated credential of the app",
    setByDeployment: "federated",
  },
  {
    env: "AUDIT_MANAGED_IDENTITY_CLIENT_ID",
    flag: "managedIdentityClientId",
    secret: false,
    group: "identity",
    meaning:
      "managed identity for Azure resources (Logs Ingestion, blob state); unset = the app credential is used",
    setByDeployment: "always",
  },
  {
    env: "O365_CLOUD",
    flag: "cloud",
    secret: false,
    group: "api",
    meaning: `${CLOUD_NAMES.join(" | ")}: login host, API host and token audiences`,
    setByDeployment: "always",
  },
  {
    env: "AZURE_AUTHORITY_HOST",
    flag: "authorityHost",
    secret: false,
    group: "api",
    meaning: "override the Entra ID login host (https URL)",
    setByDeployment: "never",
  },
  {
    env: "O365_MANAGEMENT_ENDPOINT",
    flag: "managementEndpoint",
    secret: false,
    group: "api",
    meaning: "override the Management Activity API base URL (https URL)",
    setByDeployment: "never",
  },
  {
    env: "O365_CONTENT_TYPES",
    flag: "contentTypes",
    secret: false,
    group: "api",
    meaning: `comma list of ${CONTENT_TYPES.join(", ")}`,
    setByDeployment: "always",
  },
  {
    env: "O365_PUBLISHER_ID",
    flag: "publisherId",
    secret: false,
    group: "api",
    meaning:
      "PublisherIdentifier GUID sent on every call (your own tenant's spreads the throttling budget)",
    setByDeployment: "always",
  },
  {
    env: "AUDIT_API_REQUESTS_PER_MINUTE",
    flag: "apiRequestsPerMinute",
    secret: false,
    group: "api",
    meaning:
      "request budget spread evenly over every Management Activity API call; AF429 lowers the rate until it recovers",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_STATE",
    flag: "state",
    secret: false,
    group: "state",
    meaning:
      "sqlite:<path>, or a blob container URL https://<account>.blob.core.windows.net/<container>",
    setByDeployment: "always",
  },
  {
    env: "AZURE_STORAGE_CONNECTION_STRING",
    secret: true,
    group: "state",
    meaning: "with a container URL in AUDIT_STATE: authenticate with it instead of a token",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_SINK",
    flag: "sink",
    secret: false,
    group: "sinks",
    meaning: `${SINK_KINDS.join(" | ")}, or a comma list (every sink must acknowledge a batch)`,
    setByDeployment: "always",
  },
  {
    env: "AUDIT_FILE_PATH",
    flag: "filePath",
    secret: false,
    group: "sinks",
    meaning: "NDJSON output of the file sink, one record per line exactly as received",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_QUARANTINE_DIR",
    flag: "quarantineDir",
    secret: false,
    group: "sinks",
    meaning: "where blobs that stay malformed after retries are kept for inspection",
    setByDeployment: "never",
  },
  {
    env: "LOGS_INGESTION_ENDPOINT",
    flag: "logsIngestionEndpoint",
    secret: false,
    group: "sinks",
    meaning:
      "logs ingestion URL of the data collection endpoint or rule (https); needed by the logs-ingestion sink",
    setByDeployment: "logs-ingestion",
  },
  {
    env: "LOGS_INGESTION_RULE_ID",
    flag: "logsIngestionRuleId",
    secret: false,
    group: "sinks",
    meaning:
      "the data collection rule's immutable id (dcr- and 32 hex digits); needed by the logs-ingestion sink",
    setByDeployment: "logs-ingestion",
  },
  {
    env: "LOGS_INGESTION_STREAM",
    flag: "logsIngestionStream",
    secret: false,
    group: "sinks",
    meaning: "stream of the data collection rule that the records are sent to",
    setByDeployment: "logs-ingestion",
  },
  {
    env: "SYSLOG_URL",
    flag: "syslogUrl",
    secret: false,
    group: "sinks",
    meaning:
      "syslog receiver: tls://host[:port] (RFC 5425, default port 6514), tcp://host:port (octet-counted framing) or udp://host[:port] (legacy, unacknowledged)",
    setByDeployment: "syslog",
  },
  {
    env: "SYSLOG_FORMAT",
    flag: "syslogFormat",
    secret: false,
    group: "sinks",
    meaning:
      "syslog message format: cef (ArcSight, McAfee ESM), leef (QRadar, LEEF 2.0) or json (the record as received)",
    setByDeployment: "syslog",
  },
  {
    env: "SYSLOG_APP_NAME",
    flag: "syslogAppName",
    secret: false,
    group: "sinks",
    meaning: "RFC 5424 APP-NAME of every syslog message",
    setByDeployment: "syslog",
  },
  {
    env: "SYSLOG_CA_FILE",
    flag: "syslogCaFile",
    secret: false,
    group: "sinks",
    meaning: "PEM file of the CA that signed the syslog receiver's certificate (tls:// only)",
    setByDeployment: "syslog",
  },
  {
    env: "SYSLOG_CLIENT_CERT_FILE",
    flag: "syslogClientCertFile",
    secret: false,
    group: "sinks",
    meaning: "PEM client certificate for mutual TLS to the syslog receiver",
    setByDeployment: "syslog",
  },
  {
    env: "SYSLOG_CLIENT_KEY_FILE",
    flag: "syslogClientKeyFile",
    secret: false,
    group: "sinks",
    meaning: "PEM private key of that client certificate (the file's contents are never logged)",
    setByDeployment: "syslog",
  },
  {
    env: "SYSLOG_MAX_MESSAGE_BYTES",
    flag: "syslogMaxMessageBytes",
    secret: false,
    group: "sinks",
    meaning:
      "longest syslog message in bytes, header included; a longer one is shortened and marked AuditBridgeTruncated",
    setByDeployment: "syslog",
  },
  {
    env: "SPLUNK_HEC_URL",
    flag: "splunkHecUrl",
    secret: false,
    group: "sinks",
    meaning: "Splunk HTTP Event Collector base URL, e.g. https://splunk.example.com:8088",
    setByDeployment: "splunk-hec",
  },
  {
    env: "SPLUNK_HEC_TOKEN",
    secret: true,
    group: "sinks",
    meaning: "Splunk HEC token",
    setByDeployment: "splunk-hec",
  },
  {
    env: "SPLUNK_HEC_INDEX",
    flag: "splunkHecIndex",
    secret: false,
    group: "sinks",
    meaning: "Splunk index for every event (unset: the token's default index)",
    setByDeployment: "splunk-hec",
  },
  {
    env: "SPLUNK_HEC_SOURCETYPE",
    flag: "splunkHecSourcetype",
    secret: false,
    group: "sinks",
    meaning: "Splunk sourcetype of every event",
    setByDeployment: "splunk-hec",
  },
  {
    env: "SPLUNK_HEC_CA_FILE",
    flag: "splunkHecCaFile",
    secret: false,
    group: "sinks",
    meaning: "PEM file of the CA that signed Splunk's HEC certificate",
    setByDeployment: "splunk-hec",
  },
  {
    env: "SPLUNK_HEC_ACK",
    flag: "splunkHecAck",
    secret: false,
    group: "sinks",
    meaning:
      "true: a batch counts as delivered only once Splunk acknowledges it as indexed (indexer acknowledgement)",
    setByDeployment: "splunk-hec",
  },
  {
    env: "AUDIT_INITIAL_LOOKBACK",
    flag: "initialLookback",
    secret: false,
    group: "polling",
    meaning: "how far back the first run starts, e.g. 2d",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_POLL_INTERVAL",
    flag: "pollInterval",
    secret: false,
    group: "polling",
    meaning: "pause between polls at the live edge, e.g. 5m",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_RELIST_OVERLAP",
    flag: "relistOverlap",
    secret: false,
    group: "polling",
    meaning:
      "how far behind now each poll at the live edge lists again, to catch blobs listed late",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_HTTP_PORT",
    flag: "httpPort",
    secret: false,
    group: "process",
    meaning: "port of /healthz, /livez and /metrics; 0 = any free port, logged at start",
    setByDeployment: "always",
  },
  {
    env: "AUDIT_HTTP_HOST",
    flag: "httpHost",
    secret: false,
    group: "process",
    // The container image binds 0.0.0.0 itself (collector/Dockerfile), so the deployment
    // leaves it alone.
    meaning: "address /healthz, /livez and /metrics listen on",
    setByDeployment: "never",
  },
  {
    env: "AUDIT_LOG_LEVEL",
    flag: "logLevel",
    secret: false,
    group: "process",
    meaning: LOG_LEVELS.join(" | "),
    setByDeployment: "never",
  },
  {
    env: "AUDIT_PARSE_WORKERS",
    flag: "parseWorkers",
    secret: false,
    group: "process",
    meaning: "threads that decode and parse blobs; 0 = on the main thread",
    setByDeployment: "never",
  },
] as const satisfies readonly CollectorEnvSetting[];

type Row = (typeof COLLECTOR_ENV)[number];
export type EnvKey = Row["env"];
/** The secret variables, as a type: code that handles secrets can be made to cover each one. */
export type SecretKey = Extract<Row, { secret: true }>["env"];
/** commander's camelCase name of a flag. */
export type FlagName = Extract<Row, { flag: string }>["flag"];

/** Every environment variable the collector reads. */
export const ENV_KEYS: readonly EnvKey[] = COLLECTOR_ENV.map((row) => row.env);

/** Secrets: environment only (a flag would show in `ps` and shell history), never echoed. */
export const SECRET_KEYS: ReadonlySet<EnvKey> = new Set<EnvKey>(
  COLLECTOR_ENV.filter((row) => row.secret).map((row) => row.env),
);

/** The flag mirroring each non-secret variable (commander's camelCase option name). */
export const FLAG_FOR_ENV: Readonly<Partial<Record<EnvKey, FlagName>>> = Object.freeze(
  Object.fromEntries(
    COLLECTOR_ENV.flatMap((row) => ("flag" in row ? [[row.env, row.flag] as const] : [])),
  ),
);

/** `camelCase` option name → `--kebab-case` flag as typed. */
export function flagSpelling(name: FlagName): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Port of /healthz, /livez and /metrics: next to Prometheus exporters' usual range. */
export const DEFAULT_HTTP_PORT = 9464;
/** Loopback by default; the container image sets AUDIT_HTTP_HOST=0.0.0.0 for probes. */
export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_STATE = "sqlite:./.auditbridge/state.db";
export const DEFAULT_FILE_PATH = "./.auditbridge/audit.ndjson";
