/**
 * The collector's configuration: the only module that reads `process.env`.
 *
 * Every setting is an environment variable (ARCHITECTURE.md, "Collector configuration contract");
 * a command-line flag mirrors each non-secret one and wins over the environment. The result is a
 * typed, validated, frozen {@link CollectorConfig}. Every problem is reported as one line that
 * names the variable (or flag) and says how to fix it; secret values are never echoed.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { API_HISTORY_IN_MS } from "../../domain/apiLimits";
import { CLOUD_NAMES, CLOUDS, type CloudName, type CloudProfile } from "../../domain/clouds";
import {
  DEFAULT_FILE_PATH,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_STATE,
  ENV_KEYS,
  type EnvKey,
  SINK_KINDS,
  type SinkKind,
} from "../../domain/collectorEnv";
import { CONTENT_TYPES, type ContentType, parseContentTypes } from "../../domain/contentTypes";
import { DEFAULT_STREAM_NAME } from "../../domain/table";
import {
  formatDuration,
  isCustomStreamName,
  isDcrImmutableId,
  isGuid,
  parseDuration,
} from "../../domain/validators";
import { defaultParseWorkers } from "./source/parseWorkers";
import {
  DEFAULT_OVERLAP_IN_MS,
  DEFAULT_SAFETY_MARGIN_IN_MS,
  MAX_OVERLAP_IN_MS,
  MIN_OVERLAP_IN_MS,
} from "./source/windows";

/** Default poll interval at the live edge (ARCHITECTURE.md contract). */
export const DEFAULT_POLL_INTERVAL_MS = 60_000;
/** Shortest accepted poll interval; faster polling only burns the API's request budget. */
export const MIN_POLL_INTERVAL_MS = 1_000;
/** Longest accepted poll interval; blobs expire 7 days after they become available. */
export const MAX_POLL_INTERVAL_MS = 24 * 60 * 60_000;
/** The Management Activity API lists content of the last 7 days only (reference §2.5). */
export const API_RETENTION_MS = API_HISTORY_IN_MS;
/** Kept between the oldest window start and the 7-day limit; the source's own margin. */
export const RETENTION_SAFETY_MARGIN_MS = DEFAULT_SAFETY_MARGIN_IN_MS;
/** Furthest back a first run can start. */
export const MAX_INITIAL_LOOKBACK_MS = API_RETENTION_MS - RETENTION_SAFETY_MARGIN_MS;
/** Default first-run lookback: as far back as the API allows. */
export const DEFAULT_INITIAL_LOOKBACK_MS = MAX_INITIAL_LOOKBACK_MS;
/**
 * Default re-list overlap at the live edge (AUDIT_RELIST_OVERLAP): 3 h, since blobs can become
 * listable hours after later blobs (reference §2.9); see the source's `DEFAULT_OVERLAP_IN_MS`.
 */
export const DEFAULT_RELIST_OVERLAP_MS = DEFAULT_OVERLAP_IN_MS;
/** Shortest accepted re-list overlap. */
export const MIN_RELIST_OVERLAP_MS = MIN_OVERLAP_IN_MS;
/** Longest accepted re-list overlap: one listing window. */
export const MAX_RELIST_OVERLAP_MS = MAX_OVERLAP_IN_MS;
/** Most parse worker threads accepted (AUDIT_PARSE_WORKERS). */
export const MAX_PARSE_WORKERS = 16;
/** Where blobs that stay malformed after retries are kept for inspection. */
export const DEFAULT_QUARANTINE_DIR = "./.auditbridge/quarantine";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  | { kind: "logs-ingestion"; endpoint: string; ruleId: string; stream: string };

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
  state: StateConfig;
  sinks: readonly SinkConfig[];
  /** Directory where malformed blobs are kept for inspection. */
  quarantineDir: string;
  initialLookbackMs: number;
  pollIntervalMs: number;
  /** How far behind now each poll at the live edge re-lists, to catch late-listed blobs. */
  relistOverlapMs: number;
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
  /** Worker threads that parse blobs; 0 parses on the main thread. */
  parseWorkers: number;
}

/** A configuration problem; its message is one line naming the setting and the fix. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === "ConfigError";
}

/**
 * Command-line flags mirroring environment variables (commander's camelCase option names).
 * Secrets have no flag.
 */
export const FLAG_FOR_ENV = {
  AZURE_TENANT_ID: "tenantId",
  AZURE_CLIENT_ID: "clientId",
  AZURE_CLIENT_CERTIFICATE_PATH: "clientCertificatePath",
  AUDIT_FEDERATED_IDENTITY_CLIENT_ID: "federatedIdentityClientId",
  AUDIT_MANAGED_IDENTITY_CLIENT_ID: "managedIdentityClientId",
  O365_CLOUD: "cloud",
  AZURE_AUTHORITY_HOST: "authorityHost",
  O365_MANAGEMENT_ENDPOINT: "managementEndpoint",
  O365_CONTENT_TYPES: "contentTypes",
  O365_PUBLISHER_ID: "publisherId",
  AUDIT_STATE: "state",
  AUDIT_SINK: "sink",
  AUDIT_FILE_PATH: "filePath",
  AUDIT_QUARANTINE_DIR: "quarantineDir",
  LOGS_INGESTION_ENDPOINT: "logsIngestionEndpoint",
  LOGS_INGESTION_RULE_ID: "logsIngestionRuleId",
  LOGS_INGESTION_STREAM: "logsIngestionStream",
  AUDIT_INITIAL_LOOKBACK: "initialLookback",
  AUDIT_POLL_INTERVAL: "pollInterval",
  AUDIT_RELIST_OVERLAP: "relistOverlap",
  AUDIT_HTTP_PORT: "httpPort",
  AUDIT_HTTP_HOST: "httpHost",
  AUDIT_LOG_LEVEL: "logLevel",
  AUDIT_PARSE_WORKERS: "parseWorkers",
} as const satisfies Partial<Record<EnvKey, string>>;

export type FlagName = (typeof FLAG_FOR_ENV)[keyof typeof FLAG_FOR_ENV];
/** Parsed command-line flags; any of them may be absent. */
export type CliFlags = Partial<Record<FlagName, string>>;

/** `camelCase` option name → `--kebab-case` flag as typed. */
export function flagSpelling(name: FlagName): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Shows a value in a message: trimmed, query string and credentials removed, length capped. */
function shown(value: string): string {
  let text = value.trim();
  try {
    const url = new URL(text);
    if (url.search || url.username || url.password) {
      url.search = "";
      url.username = "";
      url.password = "";
      text = url.toString();
    }
  } catch {
    // Not a URL: shown as is.
  }
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

type Raw = Partial<Record<EnvKey, string>>;

/** Builds the per-field schemas; `name` spells a key as the user set it (variable or flag). */
function fieldSchemas(name: (key: EnvKey) => string) {
  const opt = z.string().optional();

  const guid = (key: EnvKey, hint: string) =>
    opt.superRefine((value, ctx) => {
      if (value !== undefined && !isGuid(value)) {
        ctx.addIssue({
          code: "custom",
          message: `${name(key)} must be a GUID (got ${shown(value)}): ${hint}`,
        });
      }
    });

  const httpsUrl = (key: EnvKey, hint: string, allowLoopbackHttp = false) =>
    opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({
          code: "custom",
          message: `${name(key)} must be an https URL (got ${shown(value)}): ${hint}`,
        });
        return z.NEVER;
      }
      const loopbackHttp = allowLoopbackHttp && url.protocol === "http:" && isLoopback(url);
      if (url.protocol !== "https:" && !loopbackHttp) {
        ctx.addIssue({
          code: "custom",
          message: `${name(key)} must use https (got ${shown(value)}): ${hint}`,
        });
        return z.NEVER;
      }
      return url;
    });

  const duration = (key: EnvKey, minMs: number, maxMs: number, why: string) =>
    opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `${name(key)} must be a duration like 60s, 15m, 2h or 7d (got ${shown(value)}): a whole number and one unit (ms, s, m, h, d)`,
        });
        return z.NEVER;
      }
      if (ms < minMs || ms > maxMs) {
        ctx.addIssue({
          code: "custom",
          message: `${name(key)} must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)} (got ${shown(value)}): ${why}`,
        });
        return z.NEVER;
      }
      return ms;
    });

  return z.object({
    AZURE_TENANT_ID: guid(
      "AZURE_TENANT_ID",
      "use the Directory (tenant) ID from Entra ID (a domain name is not accepted)",
    ),
    AZURE_CLIENT_ID: guid(
      "AZURE_CLIENT_ID",
      "use the Application (client) ID of the app registration",
    ),
    AZURE_CLIENT_SECRET: opt,
    AZURE_CLIENT_CERTIFICATE_PATH: opt,
    AZURE_CLIENT_CERTIFICATE_PASSWORD: opt,
    AUDIT_FEDERATED_IDENTITY_CLIENT_ID: guid(
      "AUDIT_FEDERATED_IDENTITY_CLIENT_ID",
      "use the client id of the user-assigned managed identity that is a federated credential of the app",
    ),
    AUDIT_MANAGED_IDENTITY_CLIENT_ID: guid(
      "AUDIT_MANAGED_IDENTITY_CLIENT_ID",
      "use the client id of the user-assigned managed identity",
    ),
    O365_CLOUD: opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const lower = value.toLowerCase();
      if (!(CLOUD_NAMES as readonly string[]).includes(lower)) {
        ctx.addIssue({
          code: "custom",
          message: `${name("O365_CLOUD")} must be one of ${CLOUD_NAMES.join(", ")} (got ${shown(value)})`,
        });
        return z.NEVER;
      }
      return lower as CloudName;
    }),
    AZURE_AUTHORITY_HOST: httpsUrl(
      "AZURE_AUTHORITY_HOST",
      "Entra ID accepts https authority hosts only, e.g. https://login.microsoftonline.com",
    ),
    O365_MANAGEMENT_ENDPOINT: httpsUrl(
      "O365_MANAGEMENT_ENDPOINT",
      "the Management Activity API is served over https, e.g. https://manage.office.com",
    ),
    O365_CONTENT_TYPES: opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const parsed = parseContentTypes(value);
      if (!parsed.ok) {
        ctx.addIssue({
          code: "custom",
          message: `${name("O365_CONTENT_TYPES")} must be a comma list of ${CONTENT_TYPES.join(", ")} (got ${shown(parsed.unknown.join(",") || value)})`,
        });
        return z.NEVER;
      }
      return [...parsed.value];
    }),
    O365_PUBLISHER_ID: guid(
      "O365_PUBLISHER_ID",
      "use the tenant GUID of the publisher (defaults to AZURE_TENANT_ID)",
    ),
    AUDIT_STATE: opt.transform((value, ctx): StateConfig | undefined => {
      if (value === undefined) return undefined;
      const problem = `${name("AUDIT_STATE")} must be sqlite:<path> or an https blob container URL like https://<account>.blob.core.windows.net/<container> (got ${shown(value)})`;
      if (value.toLowerCase().startsWith("sqlite:")) {
        const file = value.slice("sqlite:".length).trim();
        if (file === "") {
          ctx.addIssue({ code: "custom", message: `${problem}: give the database file path` });
          return z.NEVER;
        }
        return { kind: "sqlite", path: path.resolve(file) };
      }
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
      // Plain http only for a loopback Azurite during development and tests.
      if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url))) {
        ctx.addIssue({ code: "custom", message: `${problem}: use https` });
        return z.NEVER;
      }
      if (url.search || url.username || url.password) {
        ctx.addIssue({
          code: "custom",
          message: `${problem}: remove the query string (SAS tokens are not accepted; use the managed identity or AZURE_STORAGE_CONNECTION_STRING)`,
        });
        return z.NEVER;
      }
      const segments = url.pathname.split("/").filter((s) => s !== "");
      // Path-style URLs (Azurite, private endpoints by IP) carry the account name first.
      const containerIndex = isLoopback(url) || /^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) ? 1 : 0;
      const container = segments[containerIndex];
      if (segments.length !== containerIndex + 1 || !container || !isContainerName(container)) {
        ctx.addIssue({
          code: "custom",
          message: `${problem}: the URL path must be exactly one container name (3-63 lower-case letters, digits, hyphens)`,
        });
        return z.NEVER;
      }
      return { kind: "blob", containerUrl: url.toString().replace(/\/+$/, "") };
    }),
    AZURE_STORAGE_CONNECTION_STRING: opt,
    AUDIT_SINK: opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const items = value
        .split(",")
        .map((item) => item.trim().toLowerCase())
        .filter((item) => item !== "");
      const unknown = items.filter((item) => !(SINK_KINDS as readonly string[]).includes(item));
      if (items.length === 0 || unknown.length > 0) {
        ctx.addIssue({
          code: "custom",
          message: `${name("AUDIT_SINK")} must be ${SINK_KINDS.join(", ")} or a comma list of them (got ${shown(value)})`,
        });
        return z.NEVER;
      }
      return [...new Set(items)] as SinkKind[];
    }),
    AUDIT_FILE_PATH: opt,
    AUDIT_QUARANTINE_DIR: opt,
    LOGS_INGESTION_ENDPOINT: httpsUrl(
      "LOGS_INGESTION_ENDPOINT",
      "use the logs ingestion endpoint of the data collection endpoint (or rule), e.g. https://<dce>.<region>.ingest.monitor.azure.com",
    ),
    LOGS_INGESTION_RULE_ID: opt.superRefine((value, ctx) => {
      if (value !== undefined && !isDcrImmutableId(value)) {
        ctx.addIssue({
          code: "custom",
          message: `${name("LOGS_INGESTION_RULE_ID")} must be a data collection rule immutable id like dcr-0123456789abcdef0123456789abcdef (got ${shown(value)}): copy immutableId from the rule's JSON view`,
        });
      }
    }),
    LOGS_INGESTION_STREAM: opt.superRefine((value, ctx) => {
      if (value !== undefined && !isCustomStreamName(value)) {
        ctx.addIssue({
          code: "custom",
          message: `${name("LOGS_INGESTION_STREAM")} must be a custom stream name like ${DEFAULT_STREAM_NAME} (got ${shown(value)})`,
        });
      }
    }),
    AUDIT_INITIAL_LOOKBACK: duration(
      "AUDIT_INITIAL_LOOKBACK",
      60_000,
      API_RETENTION_MS,
      `the API lists the last 7 days only; 7d means as far back as allowed (7 days minus ${formatDuration(RETENTION_SAFETY_MARGIN_MS)})`,
    ),
    AUDIT_POLL_INTERVAL: duration(
      "AUDIT_POLL_INTERVAL",
      MIN_POLL_INTERVAL_MS,
      MAX_POLL_INTERVAL_MS,
      "content appears every few minutes; 60s is a good default",
    ),
    AUDIT_RELIST_OVERLAP: duration(
      "AUDIT_RELIST_OVERLAP",
      MIN_RELIST_OVERLAP_MS,
      MAX_RELIST_OVERLAP_MS,
      `blobs can be listed hours after their creation; ${formatDuration(DEFAULT_RELIST_OVERLAP_MS)} (the default) catches them, a shorter overlap can lose them`,
    ),
    AUDIT_HTTP_PORT: opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const port = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        ctx.addIssue({
          code: "custom",
          message: `${name("AUDIT_HTTP_PORT")} must be a TCP port 0-65535 (got ${shown(value)}): 0 picks a free port`,
        });
        return z.NEVER;
      }
      return port;
    }),
    AUDIT_PARSE_WORKERS: opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const count = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
      if (!Number.isInteger(count) || count > MAX_PARSE_WORKERS) {
        ctx.addIssue({
          code: "custom",
          message: `${name("AUDIT_PARSE_WORKERS")} must be a whole number 0-${MAX_PARSE_WORKERS} (got ${shown(value)}): 0 parses on the main thread; unset uses one per core beyond the first (${defaultParseWorkers()} here)`,
        });
        return z.NEVER;
      }
      return count;
    }),
    AUDIT_HTTP_HOST: opt.superRefine((value, ctx) => {
      if (value !== undefined && !/^[A-Za-z0-9.:[\]-]+$/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `${name("AUDIT_HTTP_HOST")} must be an address to listen on such as 127.0.0.1 or 0.0.0.0 (got ${shown(value)})`,
        });
      }
    }),
    AUDIT_LOG_LEVEL: opt.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const lower = value.toLowerCase();
      if (!(LOG_LEVELS as readonly string[]).includes(lower)) {
        ctx.addIssue({
          code: "custom",
          message: `${name("AUDIT_LOG_LEVEL")} must be one of ${LOG_LEVELS.join(", ")} (got ${shown(value)})`,
        });
        return z.NEVER;
      }
      return lower as LogLevel;
    }),
  });
}

function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname.toLowerCase());
}

function isContainerName(name: string): boolean {
  return /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name) || name === "$root";
}

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

/**
 * Reads and validates the configuration. `flags` (from the command line) win over `env`.
 * Throws {@link ConfigError} listing every problem found.
 */
export function loadConfig(
  flags: CliFlags = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): CollectorConfig {
  const raw: Raw = {};
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
    const flag = (FLAG_FOR_ENV as Partial<Record<EnvKey, FlagName>>)[key];
    return fromFlag.has(key) && flag ? flagSpelling(flag) : key;
  };

  const parsed = fieldSchemas(name).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  }
  const v = parsed.data;
  const problems: string[] = [];

  if (!v.AZURE_TENANT_ID) {
    problems.push(
      "AZURE_TENANT_ID is required (or --tenant-id): the Directory (tenant) ID of the Microsoft 365 tenant",
    );
  }
  if (!v.AZURE_CLIENT_ID) {
    problems.push(
      "AZURE_CLIENT_ID is required (or --client-id): the Application (client) ID of the app registration",
    );
  }

  const credentialKeys = (
    [
      "AZURE_CLIENT_SECRET",
      "AZURE_CLIENT_CERTIFICATE_PATH",
      "AUDIT_FEDERATED_IDENTITY_CLIENT_ID",
    ] as const
  ).filter((key) => v[key] !== undefined);
  let credential: AppCredentialConfig | undefined;
  if (credentialKeys.length === 0) {
    problems.push(
      "No app credential: set exactly one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH (PEM with key) or AUDIT_FEDERATED_IDENTITY_CLIENT_ID (keyless, managed identity)",
    );
  } else if (credentialKeys.length > 1) {
    problems.push(
      `More than one app credential (${credentialKeys.map(name).join(", ")}): set exactly one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AUDIT_FEDERATED_IDENTITY_CLIENT_ID`,
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

  const base = CLOUDS[v.O365_CLOUD ?? "commercial"];
  const authorityHost = v.AZURE_AUTHORITY_HOST ? origin(v.AZURE_AUTHORITY_HOST) : undefined;
  const managementEndpoint = v.O365_MANAGEMENT_ENDPOINT
    ? trimSlash(v.O365_MANAGEMENT_ENDPOINT.toString())
    : undefined;
  const cloud: CloudProfile = Object.freeze({
    ...base,
    ...(authorityHost ? { authorityHost } : {}),
    ...(managementEndpoint ? { managementEndpoint } : {}),
  });

  let state: StateConfig = {
    kind: "sqlite",
    path: path.resolve(DEFAULT_STATE.slice("sqlite:".length)),
  };
  if (v.AUDIT_STATE) state = v.AUDIT_STATE;
  if (v.AZURE_STORAGE_CONNECTION_STRING !== undefined) {
    if (state.kind !== "blob") {
      problems.push(
        "AZURE_STORAGE_CONNECTION_STRING is set but AUDIT_STATE is not a blob container URL: set AUDIT_STATE to the container URL or remove the connection string",
      );
    } else if (
      !/(^|;)\s*(AccountKey|SharedAccessSignature|UseDevelopmentStorage)=/i.test(
        v.AZURE_STORAGE_CONNECTION_STRING,
      )
    ) {
      problems.push(
        "AZURE_STORAGE_CONNECTION_STRING is not a storage connection string: copy it from the storage account's Access keys page",
      );
    } else {
      state = { ...state, connectionString: v.AZURE_STORAGE_CONNECTION_STRING };
    }
  }

  const sinkKinds = v.AUDIT_SINK ?? ["file"];
  const sinks: SinkConfig[] = [];
  for (const kind of sinkKinds) {
    if (kind === "file") {
      sinks.push({ kind, path: path.resolve(v.AUDIT_FILE_PATH ?? DEFAULT_FILE_PATH) });
    } else if (kind === "stdout") {
      sinks.push({ kind });
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
        stream: v.LOGS_INGESTION_STREAM ?? DEFAULT_STREAM_NAME,
      });
    }
  }
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
    contentTypes: v.O365_CONTENT_TYPES ?? [...CONTENT_TYPES],
    publisherId: (v.O365_PUBLISHER_ID ?? v.AZURE_TENANT_ID!).toLowerCase(),
    state,
    sinks,
    quarantineDir: path.resolve(v.AUDIT_QUARANTINE_DIR ?? DEFAULT_QUARANTINE_DIR),
    // 7d is accepted and means "as far back as the API allows".
    initialLookbackMs: Math.min(
      v.AUDIT_INITIAL_LOOKBACK ?? DEFAULT_INITIAL_LOOKBACK_MS,
      MAX_INITIAL_LOOKBACK_MS,
    ),
    pollIntervalMs: v.AUDIT_POLL_INTERVAL ?? DEFAULT_POLL_INTERVAL_MS,
    relistOverlapMs: v.AUDIT_RELIST_OVERLAP ?? DEFAULT_RELIST_OVERLAP_MS,
    httpPort: v.AUDIT_HTTP_PORT ?? DEFAULT_HTTP_PORT,
    httpHost: v.AUDIT_HTTP_HOST ?? DEFAULT_HTTP_HOST,
    logLevel: v.AUDIT_LOG_LEVEL ?? "info",
    parseWorkers: v.AUDIT_PARSE_WORKERS ?? defaultParseWorkers(),
  });
}

/**
 * The configuration with secrets replaced, for the startup log line and `--help` diagnostics.
 */
export function describeConfig(config: CollectorConfig): Record<string, unknown> {
  return {
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
    state:
      config.state.kind === "sqlite"
        ? `sqlite:${config.state.path}`
        : `${config.state.containerUrl}${config.state.connectionString ? " (connection string)" : ""}`,
    sinks: config.sinks.map((sink) =>
      sink.kind === "file"
        ? `file:${sink.path}`
        : sink.kind === "logs-ingestion"
          ? `logs-ingestion:${sink.endpoint} ${sink.ruleId} ${sink.stream}`
          : sink.kind,
    ),
    quarantineDir: config.quarantineDir,
    initialLookback: formatDuration(config.initialLookbackMs),
    pollInterval: formatDuration(config.pollIntervalMs),
    relistOverlap: formatDuration(config.relistOverlapMs),
    http: `${config.httpHost}:${config.httpPort}`,
    parseWorkers: config.parseWorkers,
  };
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
