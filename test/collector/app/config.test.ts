import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CliFlags,
  type CollectorConfig,
  ConfigError,
  describeConfig,
  isConfigError,
  loadConfig,
} from "../../../collector/src/config";
import {
  DEFAULT_POLL_INTERVAL_IN_MS,
  DEFAULT_RELIST_OVERLAP_IN_MS,
  MAX_INITIAL_LOOKBACK_IN_MS,
} from "../../../collector/src/settings";
import { defaultParseWorkers } from "../../../collector/src/source/parseWorkers";
import { CLOUDS } from "../../../domain/clouds";
import { CONTENT_TYPES } from "../../../domain/contentTypes";
import { formatDuration, parseDuration } from "../../../domain/validators";

const TENANT = "9b1c6a3e-2f4d-4e8a-9c1b-7d2e3f4a5b6c";
const CLIENT = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const MI = "11111111-2222-4333-8444-555555555555";
const SECRET = "s3cr3t~value-that-must-never-leak";

const base = {
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: CLIENT,
  AZURE_CLIENT_SECRET: SECRET,
};

function load(env: Record<string, string | undefined>, flags: CliFlags = {}): CollectorConfig {
  return loadConfig(flags, env);
}

function problemOf(env: Record<string, string | undefined>, flags: CliFlags = {}): string {
  try {
    load(env, flags);
  } catch (error) {
    if (isConfigError(error)) return error.message;
    throw error;
  }
  throw new Error("expected a configuration error");
}

const tempDir = mkdtempSync(path.join(tmpdir(), "auditbridge-config-"));
const certOnly = path.join(tempDir, "cert-only.pem");
writeFileSync(certOnly, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
const certAndKey = path.join(tempDir, "cert-and-key.pem");
writeFileSync(
  certAndKey,
  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
);

describe("loadConfig", () => {
  it("applies the documented defaults when only the tenant, app and secret are set", () => {
    const config = load(base);
    expect(config.tenantId).toBe(TENANT);
    expect(config.clientId).toBe(CLIENT);
    expect(config.credential).toEqual({ kind: "secret", clientSecret: SECRET });
    expect(config.cloud).toEqual(CLOUDS.commercial);
    expect(config.authorityHostOverridden).toBe(false);
    expect(config.contentTypes).toEqual(CONTENT_TYPES);
    expect(config.publisherId).toBe(TENANT);
    expect(config.state).toEqual({ kind: "sqlite", path: path.resolve(".auditbridge/state.db") });
    expect(config.sinks).toEqual([
      { kind: "file", path: path.resolve(".auditbridge/audit.ndjson") },
    ]);
    expect(config.initialLookbackInMs).toBe(MAX_INITIAL_LOOKBACK_IN_MS);
    expect(config.pollIntervalInMs).toBe(DEFAULT_POLL_INTERVAL_IN_MS);
    expect(config.relistOverlapInMs).toBe(3 * 3_600_000);
    expect(DEFAULT_RELIST_OVERLAP_IN_MS).toBe(3 * 3_600_000);
    expect(config.httpPort).toBe(9464);
    expect(config.httpHost).toBe("127.0.0.1");
    expect(config.logLevel).toBe("info");
    expect(config.parseWorkers).toBe(defaultParseWorkers());
    expect(config.azureManagedIdentityClientId).toBeUndefined();
    expect(config.apiRequestsPerMinute).toBe(1_800);
  });

  it("returns a deeply frozen object", () => {
    const config = load(base);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.cloud)).toBe(true);
    expect(Object.isFrozen(config.sinks[0])).toBe(true);
    expect(Object.isFrozen(config.contentTypes)).toBe(true);
  });

  it("reads every setting from the environment", () => {
    const config = load({
      AZURE_TENANT_ID: TENANT.toUpperCase(),
      AZURE_CLIENT_ID: CLIENT,
      AUDIT_FEDERATED_IDENTITY_CLIENT_ID: MI,
      AUDIT_MANAGED_IDENTITY_CLIENT_ID: MI,
      O365_CLOUD: "GCCHigh",
      AZURE_AUTHORITY_HOST: "https://127.0.0.1:8443/",
      O365_MANAGEMENT_ENDPOINT: "https://127.0.0.1:8443",
      O365_CONTENT_TYPES: " dlp.all , Audit.Exchange,Audit.Exchange",
      O365_PUBLISHER_ID: CLIENT,
      AUDIT_STATE: "https://acct.blob.core.windows.net/auditbridge-state",
      AUDIT_SINK: "logs-ingestion,stdout",
      LOGS_INGESTION_ENDPOINT: "https://dce.westeurope-1.ingest.monitor.azure.com/",
      LOGS_INGESTION_RULE_ID: "dcr-0123456789abcdef0123456789abcdef",
      LOGS_INGESTION_STREAM: "Custom-Other",
      AUDIT_INITIAL_LOOKBACK: "2d",
      AUDIT_POLL_INTERVAL: "15m",
      AUDIT_RELIST_OVERLAP: "90m",
      AUDIT_HTTP_PORT: "0",
      AUDIT_HTTP_HOST: "0.0.0.0",
      AUDIT_LOG_LEVEL: "DEBUG",
      AUDIT_PARSE_WORKERS: "0",
      AUDIT_API_REQUESTS_PER_MINUTE: "4000",
    });
    expect(config.tenantId).toBe(TENANT);
    expect(config.credential).toEqual({ kind: "federated", managedIdentityClientId: MI });
    expect(config.azureManagedIdentityClientId).toBe(MI);
    expect(config.cloud.name).toBe("gcchigh");
    expect(config.cloud.authorityHost).toBe("https://127.0.0.1:8443");
    expect(config.cloud.managementEndpoint).toBe("https://127.0.0.1:8443");
    expect(config.cloud.managementAudience).toBe(CLOUDS.gcchigh.managementAudience);
    expect(config.cloud.tokenExchangeAudience).toBe("api://AzureADTokenExchangeUSGov");
    expect(config.authorityHostOverridden).toBe(true);
    expect(config.contentTypes).toEqual(["Audit.Exchange", "DLP.All"]);
    expect(config.publisherId).toBe(CLIENT);
    expect(config.state).toEqual({
      kind: "blob",
      containerUrl: "https://acct.blob.core.windows.net/auditbridge-state",
    });
    expect(config.sinks).toEqual([
      {
        kind: "logs-ingestion",
        endpoint: "https://dce.westeurope-1.ingest.monitor.azure.com",
        ruleId: "dcr-0123456789abcdef0123456789abcdef",
        stream: "Custom-Other",
      },
      { kind: "stdout" },
    ]);
    expect(config.initialLookbackInMs).toBe(2 * 86_400_000);
    expect(config.pollIntervalInMs).toBe(15 * 60_000);
    expect(config.parseWorkers).toBe(0);
    expect(config.relistOverlapInMs).toBe(90 * 60_000);
    expect(config.httpPort).toBe(0);
    expect(config.httpHost).toBe("0.0.0.0");
    expect(config.logLevel).toBe("debug");
    expect(config.apiRequestsPerMinute).toBe(4_000);
  });

  it("lets command-line flags win over the environment", () => {
    const config = load(
      {
        ...base,
        AUDIT_POLL_INTERVAL: "5m",
        AUDIT_RELIST_OVERLAP: "6h",
        O365_CLOUD: "dod",
        AUDIT_API_REQUESTS_PER_MINUTE: "1000",
      },
      {
        apiRequestsPerMinute: "1500",
        pollInterval: "30s",
        relistOverlap: "4h",
        cloud: "gcc",
        sink: "stdout",
        filePath: "ignored.ndjson",
        state: "sqlite:/tmp/x.db",
      },
    );
    expect(config.pollIntervalInMs).toBe(30_000);
    expect(config.relistOverlapInMs).toBe(4 * 3_600_000);
    expect(config.cloud.name).toBe("gcc");
    expect(config.sinks).toEqual([{ kind: "stdout" }]);
    expect(config.state).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
    expect(config.apiRequestsPerMinute).toBe(1_500);
  });

  it("names the flag, not the variable, when the bad value came from a flag", () => {
    expect(problemOf(base, { pollInterval: "soon" })).toMatch(
      /^--poll-interval must be a duration/,
    );
    expect(problemOf(base, { tenantId: "contoso.com" })).toMatch(/^--tenant-id must be a GUID/);
    expect(problemOf(base, { relistOverlap: "2s" })).toMatch(
      /^--relist-overlap must be between 1m and 1d \(got "2s"\)/,
    );
  });

  it.each([
    ["1m", 60_000],
    ["15m", 15 * 60_000],
    ["3h", 3 * 3_600_000],
    ["180m", 3 * 3_600_000],
    ["24h", 24 * 3_600_000],
    ["1d", 24 * 3_600_000],
  ])("accepts AUDIT_RELIST_OVERLAP=%s as %i ms", (text, ms) => {
    expect(load({ ...base, AUDIT_RELIST_OVERLAP: text }).relistOverlapInMs).toBe(ms);
  });

  it("treats 7d as the furthest lookback the API allows", () => {
    expect(load({ ...base, AUDIT_INITIAL_LOOKBACK: "7d" }).initialLookbackInMs).toBe(
      MAX_INITIAL_LOOKBACK_IN_MS,
    );
  });

  it("accepts a certificate PEM holding both certificate and key", () => {
    const config = load({
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_CERTIFICATE_PATH: certAndKey,
      AZURE_CLIENT_CERTIFICATE_PASSWORD: "pw",
    });
    expect(config.credential).toEqual({
      kind: "certificate",
      certificatePath: certAndKey,
      certificatePassword: "pw",
    });
  });

  it("accepts a loopback http container URL with a connection string (Azurite)", () => {
    const connectionString =
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
    const config = load({
      ...base,
      AUDIT_STATE: "http://127.0.0.1:10000/devstoreaccount1/state",
      AZURE_STORAGE_CONNECTION_STRING: connectionString,
    });
    expect(config.state).toEqual({
      kind: "blob",
      containerUrl: "http://127.0.0.1:10000/devstoreaccount1/state",
      connectionString,
    });
  });

  it("describes the configuration without any secret", () => {
    const config = load({
      ...base,
      AUDIT_STATE: "https://acct.blob.core.windows.net/state",
      AZURE_STORAGE_CONNECTION_STRING: "AccountName=a;AccountKey=supersecretkey==",
    });
    const text = JSON.stringify(describeConfig(config));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("supersecretkey");
    expect(text).toContain('"credential":"secret"');
  });

  it("hides a secret value wherever it would show in the description, by the table's secret column", () => {
    // A certificate password that happens to be part of the certificate's file name.
    const config = load({
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_CERTIFICATE_PATH: certAndKey,
      AZURE_CLIENT_CERTIFICATE_PASSWORD: "cert-and-key",
    });
    const description = describeConfig(config);
    expect(JSON.stringify(description)).not.toContain("cert-and-key");
    expect(description.certificatePath).toBe(
      path.join(tempDir, "[AZURE_CLIENT_CERTIFICATE_PASSWORD hidden].pem"),
    );
    expect(description.credential).toBe("certificate");
  });
});

/** [what is wrong, environment (merged over `base`, undefined removes), expected message] */
const BAD_VALUES: [string, Record<string, string | undefined>, RegExp][] = [
  [
    "a missing tenant id",
    { AZURE_TENANT_ID: undefined },
    /^AZURE_TENANT_ID is required \(or --tenant-id\): the Directory \(tenant\) ID/,
  ],
  [
    "a domain name as tenant id",
    { AZURE_TENANT_ID: "contoso.com" },
    /^AZURE_TENANT_ID must be a GUID \(got "contoso.com"\): use the Directory \(tenant\) ID from Entra ID/,
  ],
  ["a missing client id", { AZURE_CLIENT_ID: undefined }, /^AZURE_CLIENT_ID is required/],
  [
    "a client id that is not a GUID",
    { AZURE_CLIENT_ID: "my-app" },
    /^AZURE_CLIENT_ID must be a GUID \(got "my-app"\): use the Application \(client\) ID/,
  ],
  [
    "no credential at all",
    { AZURE_CLIENT_SECRET: undefined },
    /^No app credential: set exactly one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH/,
  ],
  [
    "a secret and a federated identity together",
    { AUDIT_FEDERATED_IDENTITY_CLIENT_ID: MI },
    /^More than one app credential \(AZURE_CLIENT_SECRET, AUDIT_FEDERATED_IDENTITY_CLIENT_ID\)/,
  ],
  [
    "a secret and a certificate together",
    { AZURE_CLIENT_CERTIFICATE_PATH: certAndKey },
    /^More than one app credential \(AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH\)/,
  ],
  [
    "a federated identity client id that is not a GUID",
    { AZURE_CLIENT_SECRET: undefined, AUDIT_FEDERATED_IDENTITY_CLIENT_ID: "uami" },
    /^AUDIT_FEDERATED_IDENTITY_CLIENT_ID must be a GUID \(got "uami"\)/,
  ],
  [
    "a managed identity client id that is not a GUID",
    { AUDIT_MANAGED_IDENTITY_CLIENT_ID: "x" },
    /^AUDIT_MANAGED_IDENTITY_CLIENT_ID must be a GUID/,
  ],
  [
    "a certificate file that does not exist",
    { AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: "/nonexistent/cert.pem" },
    /^AZURE_CLIENT_CERTIFICATE_PATH names a file that cannot be read \("\/nonexistent\/cert.pem"\): check the path/,
  ],
  [
    "a certificate file without its private key",
    { AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: certOnly },
    /^AZURE_CLIENT_CERTIFICATE_PATH must be a PEM file holding both the certificate and its private key \(.* lacks the private key\)/,
  ],
  [
    "a certificate path that is a directory",
    { AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: tempDir },
    /^AZURE_CLIENT_CERTIFICATE_PATH must name a PEM file/,
  ],
  [
    "a certificate password without a certificate",
    { AZURE_CLIENT_CERTIFICATE_PASSWORD: "pw" },
    /^AZURE_CLIENT_CERTIFICATE_PASSWORD is set without AZURE_CLIENT_CERTIFICATE_PATH/,
  ],
  [
    "an unknown cloud",
    { O365_CLOUD: "china" },
    /^O365_CLOUD must be one of commercial, gcc, gcchigh, dod \(got "china"\)/,
  ],
  [
    "an http authority host",
    { AZURE_AUTHORITY_HOST: "http://127.0.0.1:8080" },
    /^AZURE_AUTHORITY_HOST must use https \(got "http:\/\/127.0.0.1:8080"\): Entra ID accepts https authority hosts only/,
  ],
  [
    "an authority host that is not a URL",
    { AZURE_AUTHORITY_HOST: "login.microsoftonline.com" },
    /^AZURE_AUTHORITY_HOST must be an https URL \(got "login.microsoftonline.com"\)/,
  ],
  [
    "an http management endpoint",
    { O365_MANAGEMENT_ENDPOINT: "http://manage.office.com" },
    /^O365_MANAGEMENT_ENDPOINT must use https/,
  ],
  [
    "an unknown content type",
    { O365_CONTENT_TYPES: "Audit.Exchange,Audit.Teams" },
    /^O365_CONTENT_TYPES must be a comma list of Audit.AzureActiveDirectory, .* \(got "Audit.Teams"\)/,
  ],
  ["an empty content type list", { O365_CONTENT_TYPES: " , " }, /^O365_CONTENT_TYPES must be/],
  [
    "a publisher id that is not a GUID",
    { O365_PUBLISHER_ID: "contoso" },
    /^O365_PUBLISHER_ID must be a GUID \(got "contoso"\)/,
  ],
  [
    "a state that is neither sqlite nor a URL",
    { AUDIT_STATE: "redis://localhost" },
    /^AUDIT_STATE must be sqlite:<path> or an https blob container URL .*: use https/,
  ],
  ["a sqlite state without a path", { AUDIT_STATE: "sqlite:" }, /give the database file path/],
  [
    "a blob state URL over plain http to a remote host",
    { AUDIT_STATE: "http://acct.blob.core.windows.net/state" },
    /^AUDIT_STATE .*: use https/,
  ],
  [
    "a blob state URL without a container",
    { AUDIT_STATE: "https://acct.blob.core.windows.net/" },
    /exactly one container name/,
  ],
  [
    "a blob state URL naming a blob inside the container",
    { AUDIT_STATE: "https://acct.blob.core.windows.net/state/checkpoint.json" },
    /exactly one container name/,
  ],
  [
    "a blob state URL with an upper-case container name",
    { AUDIT_STATE: "https://acct.blob.core.windows.net/State" },
    /exactly one container name/,
  ],
  [
    "a blob state URL carrying a SAS token",
    { AUDIT_STATE: "https://acct.blob.core.windows.net/state?sv=2024&sig=abc" },
    /^AUDIT_STATE .* \(got "https:\/\/acct.blob.core.windows.net\/state"\): remove the query string/,
  ],
  [
    "a storage connection string with sqlite state",
    { AZURE_STORAGE_CONNECTION_STRING: "AccountName=a;AccountKey=k" },
    /^AZURE_STORAGE_CONNECTION_STRING is set but AUDIT_STATE is not a blob container URL/,
  ],
  [
    "a storage connection string without a key",
    {
      AUDIT_STATE: "https://acct.blob.core.windows.net/state",
      AZURE_STORAGE_CONNECTION_STRING: "hello",
    },
    /^AZURE_STORAGE_CONNECTION_STRING is not a storage connection string/,
  ],
  [
    "an unknown sink",
    { AUDIT_SINK: "splunk" },
    /^AUDIT_SINK must be logs-ingestion, file, stdout, syslog, splunk-hec or a comma list of them \(got "splunk"\)/,
  ],
  [
    "the logs-ingestion sink without endpoint and rule",
    { AUDIT_SINK: "logs-ingestion" },
    /^AUDIT_SINK=logs-ingestion needs LOGS_INGESTION_ENDPOINT and LOGS_INGESTION_RULE_ID/,
  ],
  [
    "the logs-ingestion sink without a rule id",
    { AUDIT_SINK: "logs-ingestion", LOGS_INGESTION_ENDPOINT: "https://dce.example.com" },
    /^AUDIT_SINK=logs-ingestion needs LOGS_INGESTION_RULE_ID:/,
  ],
  [
    "an http logs ingestion endpoint",
    { LOGS_INGESTION_ENDPOINT: "http://dce.example.com" },
    /^LOGS_INGESTION_ENDPOINT must use https/,
  ],
  [
    "a rule id that is the DCR's resource id",
    { LOGS_INGESTION_RULE_ID: "/subscriptions/x/dataCollectionRules/dcr1" },
    /^LOGS_INGESTION_RULE_ID must be a data collection rule immutable id like dcr-/,
  ],
  [
    "a stream name without the Custom- prefix",
    { LOGS_INGESTION_STREAM: "M365Audit" },
    /^LOGS_INGESTION_STREAM must be a custom stream name like Custom-M365Audit/,
  ],
  [
    "a lookback without a unit",
    { AUDIT_INITIAL_LOOKBACK: "3" },
    /^AUDIT_INITIAL_LOOKBACK must be a duration like 60s, 15m, 2h or 7d \(got "3"\)/,
  ],
  [
    "a lookback beyond the API's 7 days",
    { AUDIT_INITIAL_LOOKBACK: "8d" },
    /^AUDIT_INITIAL_LOOKBACK must be between 1m and 7d \(got "8d"\): the API lists the last 7 days only/,
  ],
  [
    "a poll interval below one second",
    { AUDIT_POLL_INTERVAL: "100ms" },
    /^AUDIT_POLL_INTERVAL must be between 1s and 1d \(got "100ms"\)/,
  ],
  [
    "a fractional poll interval",
    { AUDIT_POLL_INTERVAL: "1.5m" },
    /^AUDIT_POLL_INTERVAL must be a duration/,
  ],
  [
    "a re-list overlap below one minute",
    { AUDIT_RELIST_OVERLAP: "59s" },
    /^AUDIT_RELIST_OVERLAP must be between 1m and 1d \(got "59s"\): blobs can be listed hours after their creation; 3h \(the default\) catches them/,
  ],
  [
    "a re-list overlap longer than a day",
    { AUDIT_RELIST_OVERLAP: "25h" },
    /^AUDIT_RELIST_OVERLAP must be between 1m and 1d \(got "25h"\)/,
  ],
  [
    "a re-list overlap of zero",
    { AUDIT_RELIST_OVERLAP: "0m" },
    /^AUDIT_RELIST_OVERLAP must be between 1m and 1d \(got "0m"\)/,
  ],
  [
    "a re-list overlap without a unit",
    { AUDIT_RELIST_OVERLAP: "3" },
    /^AUDIT_RELIST_OVERLAP must be a duration like 60s, 15m, 2h or 7d \(got "3"\)/,
  ],
  [
    "a fractional re-list overlap",
    { AUDIT_RELIST_OVERLAP: "2.5h" },
    /^AUDIT_RELIST_OVERLAP must be a duration/,
  ],
  [
    "an http port out of range",
    { AUDIT_HTTP_PORT: "70000" },
    /^AUDIT_HTTP_PORT must be a TCP port 0-65535 \(got "70000"\)/,
  ],
  [
    "an http port that is not a number",
    { AUDIT_HTTP_PORT: "http" },
    /^AUDIT_HTTP_PORT must be a TCP port/,
  ],
  [
    "an http host with a path",
    { AUDIT_HTTP_HOST: "http://0.0.0.0/" },
    /^AUDIT_HTTP_HOST must be an address to listen on/,
  ],
  [
    "a parse worker count that is not a whole number",
    { AUDIT_PARSE_WORKERS: "two" },
    /^AUDIT_PARSE_WORKERS must be a whole number 0-16 \(got "two"\): 0 parses on the main thread/,
  ],
  [
    "too many parse workers",
    { AUDIT_PARSE_WORKERS: "17" },
    /^AUDIT_PARSE_WORKERS must be a whole number 0-16/,
  ],
  [
    "a request budget of zero",
    { AUDIT_API_REQUESTS_PER_MINUTE: "0" },
    /^AUDIT_API_REQUESTS_PER_MINUTE must be a whole number of requests a minute, 1-60000 \(got "0"\): Microsoft allows a tenant 2,000 a minute, more for large tenants; the default 1800 keeps a margin under 2,000$/,
  ],
  [
    "a request budget over the most Microsoft has documented",
    { AUDIT_API_REQUESTS_PER_MINUTE: "60001" },
    /^AUDIT_API_REQUESTS_PER_MINUTE must be a whole number of requests a minute, 1-60000 \(got "60001"\)/,
  ],
  [
    "a request budget that is not a whole number",
    { AUDIT_API_REQUESTS_PER_MINUTE: "1800/min" },
    /^AUDIT_API_REQUESTS_PER_MINUTE must be a whole number of requests a minute/,
  ],
  [
    "an unknown log level",
    { AUDIT_LOG_LEVEL: "verbose" },
    /^AUDIT_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)/,
  ],
];

describe("loadConfig rejects bad values with one line naming the setting and the fix", () => {
  it.each(BAD_VALUES)("rejects %s", (_what, overrides, expected) => {
    const env: Record<string, string | undefined> = { ...base, ...overrides };
    for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete env[key];
    const message = problemOf(env);
    expect(message).toMatch(expected);
    expect(message).not.toContain("\n");
    expect(message).not.toContain(SECRET);
  });

  it("reports every problem at once, on one line", () => {
    const error = (() => {
      try {
        load({ AZURE_TENANT_ID: "x", AZURE_CLIENT_ID: "y", AUDIT_POLL_INTERVAL: "z" });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error("expected a configuration error");
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toHaveLength(3);
    expect(error.message.split("; ")).toHaveLength(3);
    expect(error.message).not.toContain("\n");
  });

  it("never echoes a secret or a connection string, even when they are malformed", () => {
    const message = problemOf({
      ...base,
      AUDIT_FEDERATED_IDENTITY_CLIENT_ID: MI,
      AUDIT_STATE: "https://acct.blob.core.windows.net/state",
      AZURE_STORAGE_CONNECTION_STRING: "not-a-connection-string-but-secret-anyway",
    });
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain("secret-anyway");
  });
});

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["60s", 60_000],
    ["15m", 900_000],
    ["2h", 7_200_000],
    ["7d", 604_800_000],
    ["10 M", 600_000],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "60", "1.5h", "-5m", "5w", "m"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("formats milliseconds compactly", () => {
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(7 * 86_400_000 - 600_000)).toBe("6d23h50m");
    expect(formatDuration(250)).toBe("250ms");
  });
});
