/**
 * The collector's settings table: each row of the environment contract
 * (`COLLECTOR_ENV` in domain/collectorEnv.ts: variable, flag, secret, group, meaning) joined with
 * the parser that turns its text into a typed value and the default applied when it is unset.
 * `--help`, the reference page docs/collector-settings.md and the configuration loader
 * (config.ts) all read this one table; rules that span several settings (credential choice,
 * state, sinks) stay in the loader.
 *
 * Parsers never read `process.env`; config.ts hands them the trimmed text. Each problem is one
 * line that names the setting as the user set it (variable or flag) and says how to fix it.
 */
import path from "node:path";
import { API_HISTORY_IN_MS } from "../../domain/apiLimits";
import { CLOUD_NAMES, type CloudName } from "../../domain/clouds";
import {
  COLLECTOR_ENV,
  type CollectorEnvSetting,
  DEFAULT_FILE_PATH,
  DEFAULT_HTTP_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_STATE,
  type EnvKey,
  LOG_LEVELS,
  type LogLevel,
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
import {
  DEFAULT_SPLUNK_HEC_SOURCETYPE,
  DEFAULT_SYSLOG_APP_NAME,
  DEFAULT_SYSLOG_FORMAT,
  DEFAULT_SYSLOG_MAX_MESSAGE_BYTES,
  parseBooleanSetting,
  parseSplunkHecUrl,
  parseSplunkIndex,
  parseSplunkSourcetype,
  parseSyslogAppName,
  parseSyslogFormat,
  parseSyslogMaxMessageBytes,
  parseSyslogUrl,
  type SettingResult as SiemSettingResult,
} from "./sinks/siemSettings";
import { DEFAULT_API_REQUESTS_PER_MINUTE } from "./source/pacer";
import { defaultParseWorkers, MAX_DEFAULT_PARSE_WORKERS } from "./source/parseWorkers";
import {
  DEFAULT_OVERLAP_IN_MS,
  DEFAULT_SAFETY_MARGIN_IN_MS,
  MAX_OVERLAP_IN_MS,
  MIN_OVERLAP_IN_MS,
} from "./source/windows";

/** Default poll interval at the live edge: new content shows up every few minutes. */
export const DEFAULT_POLL_INTERVAL_IN_MS = 60_000;
/** Shortest accepted poll interval; faster polling only burns the API's request budget. */
export const MIN_POLL_INTERVAL_IN_MS = 1_000;
/** Longest accepted poll interval; blobs expire 7 days after they become available. */
export const MAX_POLL_INTERVAL_IN_MS = 24 * 60 * 60_000;
/**
 * The Management Activity API lists content of the last 7 days only:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content
 */
export const API_RETENTION_IN_MS = API_HISTORY_IN_MS;
/** Kept between the oldest window start and the 7-day limit; the source's own margin. */
export const RETENTION_SAFETY_MARGIN_IN_MS = DEFAULT_SAFETY_MARGIN_IN_MS;
/** Shortest accepted first-run lookback. */
export const MIN_INITIAL_LOOKBACK_IN_MS = 60_000;
/** Furthest back a first run can start. */
export const MAX_INITIAL_LOOKBACK_IN_MS = API_RETENTION_IN_MS - RETENTION_SAFETY_MARGIN_IN_MS;
/** Default first-run lookback: as far back as the API allows. */
export const DEFAULT_INITIAL_LOOKBACK_IN_MS = MAX_INITIAL_LOOKBACK_IN_MS;
/**
 * Default re-list overlap at the live edge (AUDIT_RELIST_OVERLAP): 3 h, since blobs can become
 * listable hours after later blobs (the API promises no maximum latency:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-faqs);
 * see the source's `DEFAULT_OVERLAP_IN_MS`.
 */
export const DEFAULT_RELIST_OVERLAP_IN_MS = DEFAULT_OVERLAP_IN_MS;
/** Shortest accepted re-list overlap. */
export const MIN_RELIST_OVERLAP_IN_MS = MIN_OVERLAP_IN_MS;
/** Longest accepted re-list overlap: one listing window. */
export const MAX_RELIST_OVERLAP_IN_MS = MAX_OVERLAP_IN_MS;
/**
 * Highest accepted AUDIT_API_REQUESTS_PER_MINUTE: the 60,000 a minute Microsoft's
 * troubleshooting page still names for a publisher's pool, the most it has ever documented.
 * Tenants get 2,000 a minute and more when large; a budget above the tenant's real quota only
 * earns AF429 answers, which the pacer then backs away from.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api
 */
export const MAX_API_REQUESTS_PER_MINUTE = 60_000;
/** Most parse worker threads accepted (AUDIT_PARSE_WORKERS). */
export const MAX_PARSE_WORKERS = 16;

/** Where blobs that stay malformed after retries are kept for inspection. */
export const DEFAULT_QUARANTINE_DIR = "./.auditbridge/quarantine";
/** The sink used when AUDIT_SINK is unset: a local file, so a first run needs no Azure. */
export const DEFAULT_SINK: SinkKind = "file";

/** The Microsoft 365 cloud when O365_CLOUD is unset: worldwide commercial tenants. */
export const DEFAULT_CLOUD: CloudName = "commercial";

/** The log level when AUDIT_LOG_LEVEL is unset. */
export const DEFAULT_LOG_LEVEL: LogLevel = "info";

/** A parsed checkpoint store location (AUDIT_STATE). */
export type StateLocation =
  | { kind: "sqlite"; path: string }
  | {
      kind: "blob";
      /** Container URL without query string. */
      containerUrl: string;
    };

/** What a parser returns: the typed value, or one line naming the setting and the fix. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };
/** Parses a setting's trimmed, non-empty text; `name` spells it as the user set it. */
export type Parse<T> = (text: string, name: string) => ParseResult<T>;

/** The collector's half of a row: how the text is parsed and what applies when it is unset. */
export interface SettingParser<T> {
  readonly parse: Parse<T>;
  /** The default as `--help` and the reference page show it; absent when there is none. */
  readonly shownDefault?: string;
  /** The value applied when the setting is unset, when the loader does not derive it. */
  readonly defaultValue?: () => T;
}

/** A row without a default, or whose default the loader derives from other settings. */
function setting<T>(
  parse: Parse<T>,
  shownDefault?: string,
): SettingParser<T> & { readonly defaultValue?: undefined } {
  return shownDefault === undefined ? { parse } : { parse, shownDefault };
}

/** A row whose default is applied whenever it is unset. */
function defaulted<T>(
  parse: Parse<T>,
  defaultValue: () => T,
  shownDefault: string,
): SettingParser<T> & { readonly defaultValue: () => T } {
  return { parse, defaultValue, shownDefault };
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const fail = (problem: string): ParseResult<never> => ({ ok: false, problem });

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Shows a value in a message: trimmed, query string and credentials removed, length capped. */
export function shown(value: string): string {
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

function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname.toLowerCase());
}

function isContainerName(name: string): boolean {
  return /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name) || name === "$root";
}

/** Taken as given: secrets and paths are checked by the loader, which knows their context. */
const text: Parse<string> = (value) => ok(value);

/** Text checked by a sink's own parser (whose problem follows the setting's name), kept as is. */
function checkedText(check: (value: string) => SiemSettingResult<unknown>): Parse<string> {
  return (value, name) => {
    const checked = check(value);
    return checked.ok ? ok(value) : fail(`${name} ${checked.problem}`);
  };
}

function guid(hint: string): Parse<string> {
  return (value, name) =>
    isGuid(value) ? ok(value) : fail(`${name} must be a GUID (got ${shown(value)}): ${hint}`);
}

function httpsUrl(hint: string): Parse<URL> {
  return (value, name) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(`${name} must be an https URL (got ${shown(value)}): ${hint}`);
    }
    if (url.protocol !== "https:") {
      return fail(`${name} must use https (got ${shown(value)}): ${hint}`);
    }
    return ok(url);
  };
}

function duration(minInMs: number, maxInMs: number, why: string): Parse<number> {
  return (value, name) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      return fail(
        `${name} must be a duration like 60s, 15m, 2h or 7d (got ${shown(value)}): a whole number and one unit (ms, s, m, h, d)`,
      );
    }
    if (ms < minInMs || ms > maxInMs) {
      return fail(
        `${name} must be between ${formatDuration(minInMs)} and ${formatDuration(maxInMs)} (got ${shown(value)}): ${why}`,
      );
    }
    return ok(ms);
  };
}

/** One of a fixed list of lower-case words, matched case-insensitively. */
function oneOf<T extends string>(choices: readonly T[]): Parse<T> {
  return (value, name) => {
    const lower = value.toLowerCase();
    return (choices as readonly string[]).includes(lower)
      ? ok(lower as T)
      : fail(`${name} must be one of ${choices.join(", ")} (got ${shown(value)})`);
  };
}

function wholeNumber(max: number, problem: (name: string, value: string) => string): Parse<number> {
  return (value, name) => {
    const count = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    return Number.isInteger(count) && count <= max ? ok(count) : fail(problem(name, value));
  };
}

const parseContentTypeList: Parse<readonly ContentType[]> = (value, name) => {
  const parsed = parseContentTypes(value);
  if (!parsed.ok) {
    return fail(
      `${name} must be a comma list of ${CONTENT_TYPES.join(", ")} (got ${shown(parsed.unknown.join(",") || value)})`,
    );
  }
  return ok([...parsed.value]);
};

const parseState: Parse<StateLocation> = (value, name) => {
  const problem = `${name} must be sqlite:<path> or an https blob container URL like https://<account>.blob.core.windows.net/<container> (got ${shown(value)})`;
  if (value.toLowerCase().startsWith("sqlite:")) {
    const file = value.slice("sqlite:".length).trim();
    if (file === "") return fail(`${problem}: give the database file path`);
    return ok({ kind: "sqlite", path: path.resolve(file) });
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(problem);
  }
  // Plain http only for a loopback Azurite during development and tests.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url))) {
    return fail(`${problem}: use https`);
  }
  if (url.search || url.username || url.password) {
    return fail(
      `${problem}: remove the query string (SAS tokens are not accepted; use the managed identity or AZURE_STORAGE_CONNECTION_STRING)`,
    );
  }
  const segments = url.pathname.split("/").filter((s) => s !== "");
  // Path-style URLs (Azurite, private endpoints by IP) carry the account name first.
  const containerIndex = isLoopback(url) || /^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) ? 1 : 0;
  const container = segments[containerIndex];
  if (segments.length !== containerIndex + 1 || !container || !isContainerName(container)) {
    return fail(
      `${problem}: the URL path must be exactly one container name (3-63 lower-case letters, digits, hyphens)`,
    );
  }
  return ok({ kind: "blob", containerUrl: url.toString().replace(/\/+$/, "") });
};

const parseSinks: Parse<readonly SinkKind[]> = (value, name) => {
  const items = value
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== "");
  const unknown = items.filter((item) => !(SINK_KINDS as readonly string[]).includes(item));
  if (items.length === 0 || unknown.length > 0) {
    return fail(
      `${name} must be ${SINK_KINDS.join(", ")} or a comma list of them (got ${shown(value)})`,
    );
  }
  return ok([...new Set(items)] as SinkKind[]);
};

/** The state location when AUDIT_STATE is unset, resolved against the working directory. */
function defaultState(): StateLocation {
  return { kind: "sqlite", path: path.resolve(DEFAULT_STATE.slice("sqlite:".length)) };
}

/** Parser and default of every setting, by variable; TypeScript insists on one per row. */
export const SETTING_PARSERS = {
  AZURE_TENANT_ID: setting(
    guid("use the Directory (tenant) ID from Entra ID (a domain name is not accepted)"),
  ),
  AZURE_CLIENT_ID: setting(guid("use the Application (client) ID of the app registration")),
  AZURE_CLIENT_SECRET: setting(text),
  AZURE_CLIENT_CERTIFICATE_PATH: setting(text),
  AZURE_CLIENT_CERTIFICATE_PASSWORD: setting(text),
  AUDIT_FEDERATED_IDENTITY_CLIENT_ID: setting(
    guid(
      "use the client id of the user-assigned managed identity that is a federated credential of the app",
    ),
  ),
  AUDIT_MANAGED_IDENTITY_CLIENT_ID: setting(
    guid("use the client id of the user-assigned managed identity"),
  ),
  O365_CLOUD: defaulted(oneOf<CloudName>(CLOUD_NAMES), () => DEFAULT_CLOUD, DEFAULT_CLOUD),
  AZURE_AUTHORITY_HOST: setting(
    httpsUrl("Entra ID accepts https authority hosts only, e.g. https://login.microsoftonline.com"),
    "from the cloud",
  ),
  O365_MANAGEMENT_ENDPOINT: setting(
    httpsUrl("the Management Activity API is served over https, e.g. https://manage.office.com"),
    "from the cloud",
  ),
  O365_CONTENT_TYPES: defaulted(
    parseContentTypeList,
    (): readonly ContentType[] => [...CONTENT_TYPES],
    "all of them",
  ),
  O365_PUBLISHER_ID: setting(
    guid("use the tenant GUID of the publisher (defaults to AZURE_TENANT_ID)"),
    "the tenant id",
  ),
  AUDIT_API_REQUESTS_PER_MINUTE: defaulted(
    (value, name) => {
      const budget = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      return budget >= 1 && budget <= MAX_API_REQUESTS_PER_MINUTE
        ? ok(budget)
        : fail(
            `${name} must be a whole number of requests a minute, 1-${MAX_API_REQUESTS_PER_MINUTE} (got ${shown(value)}): Microsoft allows a tenant 2,000 a minute, more for large tenants; the default ${DEFAULT_API_REQUESTS_PER_MINUTE} keeps a margin under 2,000`,
          );
    },
    () => DEFAULT_API_REQUESTS_PER_MINUTE,
    `${DEFAULT_API_REQUESTS_PER_MINUTE} (a margin under the API's 2,000 a minute)`,
  ),
  AUDIT_STATE: defaulted(parseState, defaultState, DEFAULT_STATE),
  AZURE_STORAGE_CONNECTION_STRING: setting(text),
  AUDIT_SINK: defaulted(parseSinks, (): readonly SinkKind[] => [DEFAULT_SINK], DEFAULT_SINK),
  AUDIT_FILE_PATH: defaulted(text, () => DEFAULT_FILE_PATH, DEFAULT_FILE_PATH),
  AUDIT_QUARANTINE_DIR: defaulted(text, () => DEFAULT_QUARANTINE_DIR, DEFAULT_QUARANTINE_DIR),
  LOGS_INGESTION_ENDPOINT: setting(
    httpsUrl(
      "use the logs ingestion endpoint of the data collection endpoint (or rule), e.g. https://<dce>.<region>.ingest.monitor.azure.com",
    ),
  ),
  LOGS_INGESTION_RULE_ID: setting((value, name) =>
    isDcrImmutableId(value)
      ? ok(value)
      : fail(
          `${name} must be a data collection rule immutable id like dcr-0123456789abcdef0123456789abcdef (got ${shown(value)}): copy immutableId from the rule's JSON view`,
        ),
  ),
  LOGS_INGESTION_STREAM: defaulted(
    (value, name) =>
      isCustomStreamName(value)
        ? ok(value)
        : fail(
            `${name} must be a custom stream name like ${DEFAULT_STREAM_NAME} (got ${shown(value)})`,
          ),
    () => DEFAULT_STREAM_NAME,
    DEFAULT_STREAM_NAME,
  ),
  // The SIEM sinks' settings: each is checked on its own here and kept as text; the loader
  // (config.ts) resolves them together, with the rules between them, when the sink is chosen.
  SYSLOG_URL: setting(checkedText(parseSyslogUrl)),
  SYSLOG_FORMAT: setting(checkedText(parseSyslogFormat), DEFAULT_SYSLOG_FORMAT),
  SYSLOG_APP_NAME: setting(checkedText(parseSyslogAppName), DEFAULT_SYSLOG_APP_NAME),
  SYSLOG_CA_FILE: setting(text),
  SYSLOG_CLIENT_CERT_FILE: setting(text),
  SYSLOG_CLIENT_KEY_FILE: setting(text),
  SYSLOG_MAX_MESSAGE_BYTES: setting(
    // The transport's own limit (one UDP datagram) is checked with SYSLOG_URL in the loader.
    checkedText((value) => parseSyslogMaxMessageBytes(value, "tcp")),
    String(DEFAULT_SYSLOG_MAX_MESSAGE_BYTES),
  ),
  SPLUNK_HEC_URL: setting(checkedText(parseSplunkHecUrl)),
  SPLUNK_HEC_TOKEN: setting(text),
  SPLUNK_HEC_INDEX: setting(checkedText(parseSplunkIndex)),
  SPLUNK_HEC_SOURCETYPE: setting(checkedText(parseSplunkSourcetype), DEFAULT_SPLUNK_HEC_SOURCETYPE),
  SPLUNK_HEC_CA_FILE: setting(text),
  SPLUNK_HEC_ACK: setting(checkedText(parseBooleanSetting), "false"),
  AUDIT_INITIAL_LOOKBACK: defaulted(
    duration(
      MIN_INITIAL_LOOKBACK_IN_MS,
      API_RETENTION_IN_MS,
      `the API lists the last 7 days only; 7d means as far back as allowed (7 days minus ${formatDuration(RETENTION_SAFETY_MARGIN_IN_MS)})`,
    ),
    () => DEFAULT_INITIAL_LOOKBACK_IN_MS,
    `${formatDuration(API_RETENTION_IN_MS)}, as far back as the API allows`,
  ),
  AUDIT_POLL_INTERVAL: defaulted(
    duration(
      MIN_POLL_INTERVAL_IN_MS,
      MAX_POLL_INTERVAL_IN_MS,
      "content appears every few minutes; 60s is a good default",
    ),
    () => DEFAULT_POLL_INTERVAL_IN_MS,
    formatDuration(DEFAULT_POLL_INTERVAL_IN_MS),
  ),
  AUDIT_RELIST_OVERLAP: defaulted(
    duration(
      MIN_RELIST_OVERLAP_IN_MS,
      MAX_RELIST_OVERLAP_IN_MS,
      `blobs can be listed hours after their creation; ${formatDuration(DEFAULT_RELIST_OVERLAP_IN_MS)} (the default) catches them, a shorter overlap can lose them`,
    ),
    () => DEFAULT_RELIST_OVERLAP_IN_MS,
    formatDuration(DEFAULT_RELIST_OVERLAP_IN_MS),
  ),
  AUDIT_HTTP_PORT: defaulted(
    wholeNumber(
      65535,
      (name, value) =>
        `${name} must be a TCP port 0-65535 (got ${shown(value)}): 0 picks a free port`,
    ),
    () => DEFAULT_HTTP_PORT,
    String(DEFAULT_HTTP_PORT),
  ),
  AUDIT_HTTP_HOST: defaulted(
    (value, name) =>
      /^[A-Za-z0-9.:[\]-]+$/.test(value)
        ? ok(value)
        : fail(
            `${name} must be an address to listen on such as 127.0.0.1 or 0.0.0.0 (got ${shown(value)})`,
          ),
    () => DEFAULT_HTTP_HOST,
    DEFAULT_HTTP_HOST,
  ),
  AUDIT_LOG_LEVEL: defaulted(oneOf(LOG_LEVELS), () => DEFAULT_LOG_LEVEL, DEFAULT_LOG_LEVEL),
  AUDIT_PARSE_WORKERS: defaulted(
    wholeNumber(
      MAX_PARSE_WORKERS,
      (name, value) =>
        `${name} must be a whole number 0-${MAX_PARSE_WORKERS} (got ${shown(value)}): 0 parses on the main thread; unset uses one per core beyond the first (${defaultParseWorkers()} here)`,
    ),
    // Read at load time: the number of cores is a fact of the machine, not of the code.
    () => defaultParseWorkers(),
    `cores - 1, 1 to ${MAX_DEFAULT_PARSE_WORKERS}`,
  ),
} as const satisfies { readonly [K in EnvKey]: SettingParser<unknown> };

type Parsers = typeof SETTING_PARSERS;
/** The typed value of each setting: never undefined when the table gives it a default. */
export type SettingValues = {
  readonly [K in EnvKey]: Parsers[K] extends { readonly defaultValue: () => infer T }
    ? T
    : Parsers[K] extends SettingParser<infer T>
      ? T | undefined
      : never;
};

/** One complete row of the settings table. */
export interface CollectorSetting extends CollectorEnvSetting, SettingParser<unknown> {
  readonly env: EnvKey;
}

/** The settings table: the env contract's rows, in its order, each with parser and default. */
export const SETTINGS: readonly CollectorSetting[] = Object.freeze(
  COLLECTOR_ENV.map((row) => Object.freeze({ ...row, ...SETTING_PARSERS[row.env] })),
);

/** Every setting's value, or every one-line problem found in the raw text. */
export type ParsedSettings =
  | { ok: true; values: SettingValues }
  | { ok: false; problems: readonly string[] };

/**
 * Parses each setting present in `raw` (trimmed, non-empty text) and applies the table's
 * defaults to the others. `name` spells a setting as the user set it, for messages.
 */
export function parseSettings(
  raw: Readonly<Partial<Record<EnvKey, string>>>,
  name: (key: EnvKey) => string,
): ParsedSettings {
  const values: Partial<Record<EnvKey, unknown>> = {};
  const problems: string[] = [];
  for (const row of SETTINGS) {
    const textValue = raw[row.env];
    if (textValue === undefined) {
      values[row.env] = row.defaultValue?.();
      continue;
    }
    const result = row.parse(textValue, name(row.env));
    if (result.ok) values[row.env] = result.value;
    else problems.push(result.problem);
  }
  // Every key was filled above by its own row's parser or default, so the cast is exact.
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, values: values as SettingValues };
}
