/**
 * The collector's configuration: the only module that reads `process.env`.
 *
 * Every setting is an environment variable of the collector's contract
 * (domain/collectorEnv.ts, listed in docs/collector-settings.md); a command-line flag mirrors
 * each non-secret one and wins over the environment. Each setting is parsed by its row of the
 * settings table (settings.ts); this loader adds the rules that span several settings (which
 * app credential, checkpoint state, sinks) and returns a typed, validated, frozen
 * {@link CollectorConfig}. Every problem is reported as one line that names the variable (or
 * flag) and says how to fix it; secret values are never echoed.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { CLOUDS, type CloudProfile } from "../../domain/clouds";
import {
  ENV_KEYS,
  type EnvKey,
  FLAG_FOR_ENV,
  type FlagName,
  flagSpelling,
  type LogLevel,
  type SecretKey,
} from "../../domain/collectorEnv";
import type { ContentType } from "../../domain/contentTypes";
import { AuditBridgeError } from "../../domain/errors";
import { formatDuration } from "../../domain/validators";
import {
  MAX_INITIAL_LOOKBACK_IN_MS,
  parseSettings,
  type SettingValues,
  type StateLocation,
  shown,
} from "./settings";
import {
  resolveSplunkHecSettings,
  resolveSyslogSettings,
  type SplunkHecSettings,
  type SyslogSettings,
} from "./sinks/siemSettings";

/** How the collector authenticates as the app registration in the Microsoft 365 tenant. */
export type AppCredentialConfig =
  | { kind: "secret"; clientSecret: string }
  | { kind: "certificate"; certificatePath: string; certificatePassword?: string }
  | {
      kind: "federated";
      /** Client id of the user-assigned managed identity whose token is the client assertion. */
      managedIdentityClientId: string;
    };

export type StateConfig =
  | { kind: "sqlite"; path: string }
  | {
      kind: "blob";
      /** Container URL without query string. */
      containerUrl: string;
      /** When set, the store authenticates with it instead of a token credential. */
      connectionString?: string;
    };

export type SinkConfig =
  | { kind: "file"; path: string }
  | { kind: "stdout" }
  | { kind: "logs-ingestion"; endpoint: string; ruleId: string; stream: string }
  | { kind: "syslog"; settings: SyslogSettings }
  | { kind: "splunk-hec"; settings: SplunkHecSettings };

export interface CollectorConfig {
  tenantId: string;
  clientId: string;
  credential: AppCredentialConfig;
  /**
   * Managed identity for Azure resources (Logs Ingestion, blob state). Undefined outside Azure:
   * the app credential is used instead.
   */
  azureManagedIdentityClientId?: string;
  /** The cloud profile with `AZURE_AUTHORITY_HOST` / `O365_MANAGEMENT_ENDPOINT` applied. */
  cloud: CloudProfile;
  /** True when `authorityHost` was overridden. */
  authorityHostOverridden: boolean;
  contentTypes: readonly ContentType[];
  publisherId: string;
  /** Request budget of the Management API pacer (AUDIT_API_REQUESTS_PER_MINUTE). */
  apiRequestsPerMinute: number;
  state: StateConfig;
  sinks: readonly SinkConfig[];
  /** Directory where malformed blobs are kept for inspection. */
  quarantineDir: string;
  initialLookbackInMs: number;
  pollIntervalInMs: number;
  /** How far behind now each poll at the live edge re-lists, to catch late-listed blobs. */
  relistOverlapInMs: number;
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
  /** Worker threads that parse blobs; 0 parses on the main thread. */
  parseWorkers: number;
}

/** A configuration problem; its message is one line naming the setting and the fix. */
export class ConfigError extends AuditBridgeError<"bad-config"> {
  override readonly name: string = "ConfigError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join("; "), { code: "bad-config" });
    this.problems = problems;
  }
}

/** True for a {@link ConfigError}. */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}

/** Parsed command-line flags (commander's camelCase names); any of them may be absent. */
export type CliFlags = Partial<Record<FlagName, string>>;

/** The three settings that choose the app credential; exactly one must be set. */
const CREDENTIAL_KEYS = [
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PATH",
  "AUDIT_FEDERATED_IDENTITY_CLIENT_ID",
] as const satisfies readonly EnvKey[];

/** Reads the certificate file enough to report a useless one now instead of at the first token. */
function certificateProblem(file: string, label: string): string | undefined {
  let text: string;
  try {
    if (!statSync(file).isFile()) return `${label} must name a PEM file (got ${shown(file)})`;
    text = readFileSync(file, "utf8");
  } catch {
    return `${label} names a file that cannot be read (${shown(file)}): check the path and permissions`;
  }
  const hasCert = text.includes("-----BEGIN CERTIFICATE-----");
  const hasKey = /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/.test(text);
  if (!hasCert || !hasKey) {
    return `${label} must be a PEM file holding both the certificate and its private key (${shown(file)} lacks the ${hasCert ? "private key" : "certificate"})`;
  }
  return undefined;
}

/** `KEY is required (or --flag)`, the start of a missing-setting message. */
function required(key: EnvKey): string {
  const flag = FLAG_FOR_ENV[key];
  return `${key} is required${flag ? ` (or ${flagSpelling(flag)})` : ""}`;
}

/** The one app credential, or undefined after adding the problem to `problems`. */
function appCredential(
  v: SettingValues,
  name: (key: EnvKey) => string,
  problems: string[],
): AppCredentialConfig | undefined {
  const chosen = CREDENTIAL_KEYS.filter((key) => v[key] !== undefined);
  let credential: AppCredentialConfig | undefined;
  if (chosen.length === 0) {
    problems.push(
      "No app credential: set exactly one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH (PEM with key) or AUDIT_FEDERATED_IDENTITY_CLIENT_ID (keyless, managed identity)",
    );
  } else if (chosen.length > 1) {
    problems.push(
      `More than one app credential (${chosen.map(name).join(", ")}): set exactly one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AUDIT_FEDERATED_IDENTITY_CLIENT_ID`,
    );
  } else if (v.AZURE_CLIENT_SECRET !== undefined) {
    credential = { kind: "secret", clientSecret: v.AZURE_CLIENT_SECRET };
  } else if (v.AZURE_CLIENT_CERTIFICATE_PATH !== undefined) {
    const certificatePath = path.resolve(v.AZURE_CLIENT_CERTIFICATE_PATH);
    const problem = certificateProblem(certificatePath, name("AZURE_CLIENT_CERTIFICATE_PATH"));
    if (problem) problems.push(problem);
    credential = {
      kind: "certificate",
      certificatePath,
      ...(v.AZURE_CLIENT_CERTIFICATE_PASSWORD !== undefined
        ? { certificatePassword: v.AZURE_CLIENT_CERTIFICATE_PASSWORD }
        : {}),
    };
  } else {
    credential = {
      kind: "federated",
      managedIdentityClientId: v.AUDIT_FEDERATED_IDENTITY_CLIENT_ID!,
    };
  }
  if (v.AZURE_CLIENT_CERTIFICATE_PASSWORD !== undefined && credential?.kind !== "certificate") {
    problems.push(
      "AZURE_CLIENT_CERTIFICATE_PASSWORD is set without AZURE_CLIENT_CERTIFICATE_PATH: remove it or set the certificate path",
    );
  }
  return credential;
}

/** The checkpoint store: AUDIT_STATE, with the connection string only for blob state. */
function stateOf(v: SettingValues, problems: string[]): StateConfig {
  const state: StateLocation = v.AUDIT_STATE;
  const connectionString = v.AZURE_STORAGE_CONNECTION_STRING;
  if (connectionString === undefined) return state;
  if (state.kind !== "blob") {
    problems.push(
      "AZURE_STORAGE_CONNECTION_STRING is set but AUDIT_STATE is not a blob container URL: set AUDIT_STATE to the container URL or remove the connection string",
    );
    return state;
  }
  if (
    !/(^|;)\s*(AccountKey|SharedAccessSignature|UseDevelopmentStorage)=/i.test(connectionString)
  ) {
    problems.push(
      "AZURE_STORAGE_CONNECTION_STRING is not a storage connection string: copy it from the storage account's Access keys page",
    );
    return state;
  }
  return { ...state, connectionString };
}

/** The sinks of AUDIT_SINK, each with the settings it needs. */
function sinksOf(
  v: SettingValues,
  name: (key: EnvKey) => string,
  problems: string[],
): SinkConfig[] {
  const sinks: SinkConfig[] = [];
  for (const kind of v.AUDIT_SINK) {
    if (kind === "file") {
      sinks.push({ kind, path: path.resolve(v.AUDIT_FILE_PATH) });
    } else if (kind === "stdout") {
      sinks.push({ kind });
    } else if (kind === "syslog" || kind === "splunk-hec") {
      const resolved =
        kind === "syslog"
          ? resolveSyslogSettings({
              SYSLOG_URL: v.SYSLOG_URL,
              SYSLOG_FORMAT: v.SYSLOG_FORMAT,
              SYSLOG_APP_NAME: v.SYSLOG_APP_NAME,
              SYSLOG_CA_FILE: v.SYSLOG_CA_FILE,
              SYSLOG_CLIENT_CERT_FILE: v.SYSLOG_CLIENT_CERT_FILE,
              SYSLOG_CLIENT_KEY_FILE: v.SYSLOG_CLIENT_KEY_FILE,
              SYSLOG_MAX_MESSAGE_BYTES: v.SYSLOG_MAX_MESSAGE_BYTES,
            })
          : resolveSplunkHecSettings({
              SPLUNK_HEC_URL: v.SPLUNK_HEC_URL,
              SPLUNK_HEC_TOKEN: v.SPLUNK_HEC_TOKEN,
              SPLUNK_HEC_INDEX: v.SPLUNK_HEC_INDEX,
              SPLUNK_HEC_SOURCETYPE: v.SPLUNK_HEC_SOURCETYPE,
              SPLUNK_HEC_CA_FILE: v.SPLUNK_HEC_CA_FILE,
              SPLUNK_HEC_ACK: v.SPLUNK_HEC_ACK,
            });
      if (!resolved.ok) {
        // The sink's problems name variables; spell each as the user set it (variable or flag).
        problems.push(
          resolved.problem.replace(/\b(SYSLOG|SPLUNK_HEC)_[A-Z_]+\b/g, (key) =>
            (ENV_KEYS as readonly string[]).includes(key) ? name(key as EnvKey) : key,
          ),
        );
        continue;
      }
      sinks.push(
        kind === "syslog"
          ? { kind, settings: resolved.value as SyslogSettings }
          : { kind, settings: resolved.value as SplunkHecSettings },
      );
    } else {
      const missing = (["LOGS_INGESTION_ENDPOINT", "LOGS_INGESTION_RULE_ID"] as const).filter(
        (key) => v[key] === undefined,
      );
      if (missing.length > 0) {
        problems.push(
          `${name("AUDIT_SINK")}=logs-ingestion needs ${missing.join(" and ")}: take them from the data collection endpoint and rule (pulumi stack output)`,
        );
        continue;
      }
      sinks.push({
        kind,
        endpoint: trimSlash(v.LOGS_INGESTION_ENDPOINT!.toString()),
        ruleId: v.LOGS_INGESTION_RULE_ID!,
        stream: v.LOGS_INGESTION_STREAM,
      });
    }
  }
  return sinks;
}

/**
 * Reads and validates the configuration. `flags` (from the command line) win over `env`.
 * Throws {@link ConfigError} listing every problem found: first every setting's own problems;
 * when there are none, every problem between settings.
 */
export function loadConfig(
  flags: CliFlags = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): CollectorConfig {
  const raw: Partial<Record<EnvKey, string>> = {};
  const fromFlag = new Set<EnvKey>();
  for (const key of ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && value.trim() !== "") raw[key] = value.trim();
  }
  for (const [key, flag] of Object.entries(FLAG_FOR_ENV) as [EnvKey, FlagName][]) {
    const value = flags[flag];
    if (value !== undefined && value.trim() !== "") {
      raw[key] = value.trim();
      fromFlag.add(key);
    }
  }
  const name = (key: EnvKey): string => {
    const flag = FLAG_FOR_ENV[key];
    return fromFlag.has(key) && flag ? flagSpelling(flag) : key;
  };

  const parsed = parseSettings(raw, name);
  if (!parsed.ok) throw new ConfigError(parsed.problems);
  const v = parsed.values;
  const problems: string[] = [];

  if (!v.AZURE_TENANT_ID) {
    problems.push(
      `${required("AZURE_TENANT_ID")}: the Directory (tenant) ID of the Microsoft 365 tenant`,
    );
  }
  if (!v.AZURE_CLIENT_ID) {
    problems.push(
      `${required("AZURE_CLIENT_ID")}: the Application (client) ID of the app registration`,
    );
  }
  const credential = appCredential(v, name, problems);

  const authorityHost = v.AZURE_AUTHORITY_HOST ? origin(v.AZURE_AUTHORITY_HOST) : undefined;
  const managementEndpoint = v.O365_MANAGEMENT_ENDPOINT
    ? trimSlash(v.O365_MANAGEMENT_ENDPOINT.toString())
    : undefined;
  const cloud: CloudProfile = Object.freeze({
    ...CLOUDS[v.O365_CLOUD],
    ...(authorityHost ? { authorityHost } : {}),
    ...(managementEndpoint ? { managementEndpoint } : {}),
  });

  const state = stateOf(v, problems);
  const sinks = sinksOf(v, name, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze<CollectorConfig>({
    tenantId: v.AZURE_TENANT_ID!.toLowerCase(),
    clientId: v.AZURE_CLIENT_ID!.toLowerCase(),
    credential: credential!,
    ...(v.AUDIT_MANAGED_IDENTITY_CLIENT_ID
      ? { azureManagedIdentityClientId: v.AUDIT_MANAGED_IDENTITY_CLIENT_ID }
      : {}),
    cloud,
    authorityHostOverridden: authorityHost !== undefined,
    contentTypes: v.O365_CONTENT_TYPES,
    publisherId: (v.O365_PUBLISHER_ID ?? v.AZURE_TENANT_ID!).toLowerCase(),
    apiRequestsPerMinute: v.AUDIT_API_REQUESTS_PER_MINUTE,
    state,
    sinks,
    quarantineDir: path.resolve(v.AUDIT_QUARANTINE_DIR),
    // 7d is accepted and means "as far back as the API allows".
    initialLookbackInMs: Math.min(v.AUDIT_INITIAL_LOOKBACK, MAX_INITIAL_LOOKBACK_IN_MS),
    pollIntervalInMs: v.AUDIT_POLL_INTERVAL,
    relistOverlapInMs: v.AUDIT_RELIST_OVERLAP,
    httpPort: v.AUDIT_HTTP_PORT,
    httpHost: v.AUDIT_HTTP_HOST,
    logLevel: v.AUDIT_LOG_LEVEL,
    parseWorkers: v.AUDIT_PARSE_WORKERS,
  });
}

/**
 * Where each secret setting of the contract ends up in a configuration. Typed by the table's
 * secret column, so a new secret does not compile until the echo below can hide it.
 */
const SECRET_VALUES: {
  readonly [K in SecretKey]: (config: CollectorConfig) => string | undefined;
} = {
  AZURE_CLIENT_SECRET: (config) =>
    config.credential.kind === "secret" ? config.credential.clientSecret : undefined,
  AZURE_CLIENT_CERTIFICATE_PASSWORD: (config) =>
    config.credential.kind === "certificate" ? config.credential.certificatePassword : undefined,
  AZURE_STORAGE_CONNECTION_STRING: (config) =>
    config.state.kind === "blob" ? config.state.connectionString : undefined,
  SPLUNK_HEC_TOKEN: (config) => {
    const hec = config.sinks.find((sink) => sink.kind === "splunk-hec");
    return hec?.kind === "splunk-hec" ? hec.settings.token : undefined;
  },
};

/**
 * The configuration for the startup log line, without secrets: they are described by kind
 * only, and any secret value that still reached a field is replaced by `[KEY hidden]`.
 */
export function describeConfig(config: CollectorConfig): Record<string, unknown> {
  const description: Record<string, unknown> = {
    tenantId: config.tenantId,
    clientId: config.clientId,
    credential: config.credential.kind,
    ...(config.credential.kind === "federated"
      ? { federatedIdentityClientId: config.credential.managedIdentityClientId }
      : {}),
    ...(config.credential.kind === "certificate"
      ? { certificatePath: config.credential.certificatePath }
      : {}),
    azureCredential: config.azureManagedIdentityClientId ? "managed-identity" : "app",
    cloud: config.cloud.name,
    authorityHost: config.cloud.authorityHost,
    managementEndpoint: config.cloud.managementEndpoint,
    contentTypes: config.contentTypes,
    publisherId: config.publisherId,
    apiRequestsPerMinute: config.apiRequestsPerMinute,
    state:
      config.state.kind === "sqlite"
        ? `sqlite:${config.state.path}`
        : `${config.state.containerUrl}${config.state.connectionString ? " (connection string)" : ""}`,
    sinks: config.sinks.map((sink) =>
      sink.kind === "file"
        ? `file:${sink.path}`
        : sink.kind === "logs-ingestion"
          ? `logs-ingestion:${sink.endpoint} ${sink.ruleId} ${sink.stream}`
          : sink.kind === "syslog"
            ? `syslog:${sink.settings.target.transport}://${sink.settings.target.host}:${sink.settings.target.port} ${sink.settings.format}`
            : sink.kind === "splunk-hec"
              ? `splunk-hec:${sink.settings.url.origin}${sink.settings.index ? ` index ${sink.settings.index}` : ""}${sink.settings.ack ? " ack" : ""}`
              : sink.kind,
    ),
    quarantineDir: config.quarantineDir,
    initialLookback: formatDuration(config.initialLookbackInMs),
    pollInterval: formatDuration(config.pollIntervalInMs),
    relistOverlap: formatDuration(config.relistOverlapInMs),
    http: `${config.httpHost}:${config.httpPort}`,
    parseWorkers: config.parseWorkers,
  };
  const secrets = (Object.entries(SECRET_VALUES) as [SecretKey, (c: CollectorConfig) => unknown][])
    .map(([key, secretOf]) => [key, secretOf(config)] as const)
    .filter((entry): entry is readonly [SecretKey, string] => typeof entry[1] === "string")
    .filter(([, value]) => value !== "");
  return hideSecrets(description, secrets) as Record<string, unknown>;
}

/** Replaces every occurrence of a secret value inside strings, arrays and plain objects. */
function hideSecrets(value: unknown, secrets: readonly (readonly [SecretKey, string])[]): unknown {
  if (typeof value === "string") {
    return secrets.reduce(
      (text, [key, secret]) => text.split(secret).join(`[${key} hidden]`),
      value,
    );
  }
  if (Array.isArray(value)) return value.map((item) => hideSecrets(item, secrets));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, hideSecrets(item, secrets)]),
    );
  }
  return value;
}

function origin(url: URL): string {
  // MSAL builds `${authorityHost}/${tenant}`; a path here would break discovery, so keep it.
  return trimSlash(`${url.origin}${url.pathname}`);
}

function trimSlash(text: string): string {
  return text.replace(/\/+$/, "");
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
