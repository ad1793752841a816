/**
 * Stack configuration: the only module that touches `pulumi.Config`. It reads the `auditbridge:`
 * namespace once, validates it with zod and returns a typed, frozen {@link StackConfig}. Any
 * problem becomes ONE line naming the key and the `pulumi config set` that fixes it, raised
 * before a single resource is declared. Secret values are never echoed.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  DEPLOYER_PRINCIPAL_TYPES,
  type DeployerPrincipalType,
} from "../components/collectorCredential";
import {
  DEFAULT_ROLE_ASSIGNMENT_WAIT_SECONDS,
  MAX_ROLE_ASSIGNMENT_WAIT_SECONDS,
} from "../components/collectorService";
import type { SplunkHecSinkArgs, SyslogSinkArgs } from "../components/collectorSinks";
import type { SentinelArgs } from "../components/sentinelContent";
import { COLLECTOR_KINDS, type CollectorKind } from "../components/tenantAuditPipeline";
import {
  certificateBundleProblem,
  certificatesPemProblem,
  closestName,
  DEFAULT_SECRET_LIFETIME_DAYS,
  DEFAULT_SECRET_ROTATION_DAYS,
  imageReferenceProblem,
  imageRegistryHost,
  integerRangeProblem,
  MAX_SECRET_LIFETIME_DAYS,
  MAX_WORKSPACE_RETENTION_DAYS,
  MIN_WORKSPACE_RETENTION_DAYS,
  namePrefixFromStack,
  namePrefixProblem,
  parseResourceId,
  privateKeyPemProblem,
  resourceIdProblem,
  rotationAnchorProblem,
  secretRotationProblem,
  tableNameProblem,
} from "../components/validators";
import { CLOUD_NAMES, type CloudName } from "../domain/clouds";
import { type DeployedSinkKind, parseDeployedSinks } from "../domain/collectorEnv";
import { CONTENT_TYPES, type ContentType, parseContentTypes } from "../domain/contentTypes";
import { DEFAULT_COLLECTOR_SCHEDULE, parseCronSchedule } from "../domain/cron";
import { AuditBridgeError } from "../domain/errors";
import {
  DEFAULT_SPLUNK_HEC_SOURCETYPE,
  DEFAULT_SYSLOG_APP_NAME,
  DEFAULT_SYSLOG_FORMAT,
  DEFAULT_SYSLOG_MAX_MESSAGE_BYTES,
  MAX_SYSLOG_MESSAGE_BYTES,
  MIN_SYSLOG_MAX_MESSAGE_BYTES,
  parseSplunkHecToken,
  parseSplunkHecUrl,
  parseSplunkIndex,
  parseSplunkSourcetype,
  parseSyslogAppName,
  parseSyslogFormat,
  parseSyslogMaxMessageBytes,
  parseSyslogUrl,
  type SettingResult,
  type SyslogFormat,
} from "../domain/siemSettings";
import {
  DEFAULT_TABLE_NAME,
  DEFAULT_TABLE_PLAN,
  TABLE_PLANS,
  type TablePlan,
} from "../domain/table";
import { guidProblem } from "../domain/validators";

/** Config namespace: the Pulumi project name. */
export const CONFIG_NAMESPACE = "auditbridge";

/** Credential modes of the app registration. */
export const CREDENTIAL_MODES = ["secret", "certificate", "federated"] as const;
export type CredentialMode = (typeof CREDENTIAL_MODES)[number];

/** How the bundled collector runs: a Container App (one replica) or a scheduled Container Apps Job. */
export const COLLECTOR_MODES = ["always-on", "scheduled"] as const;
export type CollectorMode = (typeof COLLECTOR_MODES)[number];

/** One config key: its Pulumi.yaml type, default and the example the fix hint shows. */
export interface ConfigKeySpec {
  type: "string" | "integer" | "boolean";
  /** Default when unset (Pulumi.yaml declares the same). Empty string = "not set". */
  default?: string | number | boolean;
  /** Value shown in `pulumi config set auditbridge:<key> <example>`. */
  example: string;
  /** Must be stored with `pulumi config set --secret`. */
  secret?: boolean;
}

/** Every key AuditBridge reads. Pulumi.yaml declares the same keys and defaults (a test checks it). */
export const CONFIG_KEYS = {
  m365TenantId: { type: "string", example: "<Microsoft 365 tenant GUID>" },
  azureTenantId: { type: "string", default: "", example: "<Azure subscription's tenant GUID>" },
  cloud: { type: "string", default: "commercial", example: "commercial" },
  location: { type: "string", example: "westeurope" },
  resourceGroupName: { type: "string", example: "rg-auditbridge-contoso" },
  namePrefix: { type: "string", default: "", example: "contoso" },
  appDisplayName: { type: "string", default: "", example: '"AuditBridge audit reader (contoso)"' },
  contentTypes: {
    type: "string",
    default: CONTENT_TYPES.join(","),
    example: CONTENT_TYPES.join(","),
  },
  includeServiceHealth: { type: "boolean", default: false, example: "false" },
  publisherId: { type: "string", default: "", example: "<your organisation's tenant GUID>" },
  credentialMode: { type: "string", default: "secret", example: "federated" },
  secretLifetimeDays: {
    type: "integer",
    default: DEFAULT_SECRET_LIFETIME_DAYS,
    example: String(DEFAULT_SECRET_LIFETIME_DAYS),
  },
  secretRotationDays: {
    type: "integer",
    default: DEFAULT_SECRET_ROTATION_DAYS,
    example: String(DEFAULT_SECRET_ROTATION_DAYS),
  },
  secretRotationAnchor: { type: "string", default: "2026-01-01", example: "2026-01-01" },
  clientCertificatePem: {
    type: "string",
    default: "",
    secret: true,
    example: '-- "$(cat collector-cert-and-key.pem)"',
  },
  workspaceResourceId: {
    type: "string",
    default: "",
    example:
      "/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>",
  },
  workspaceRetentionDays: { type: "integer", default: 90, example: "90" },
  workspaceDailyCapGb: { type: "integer", default: -1, example: "5" },
  tableName: { type: "string", default: DEFAULT_TABLE_NAME, example: DEFAULT_TABLE_NAME },
  tablePlan: { type: "string", default: DEFAULT_TABLE_PLAN, example: "Basic" },
  collector: { type: "string", default: "bundled", example: "none" },
  collectorImage: {
    type: "string",
    default: "",
    example: "myregistry.azurecr.io/auditbridge-collector:0.1.0",
  },
  collectorMode: { type: "string", default: "always-on", example: "scheduled" },
  // Empty = not set (so setting it in always-on mode is noticed); scheduled mode then runs on
  // DEFAULT_COLLECTOR_SCHEDULE.
  collectorSchedule: { type: "string", default: "", example: `"${DEFAULT_COLLECTOR_SCHEDULE}"` },
  collectorRegistryResourceId: {
    type: "string",
    default: "",
    example:
      "/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>",
  },
  keyVaultRecoverSoftDeleted: { type: "boolean", default: false, example: "true" },
  deleteDataOnDestroy: { type: "boolean", default: false, example: "false" },
  roleAssignmentWaitSeconds: {
    type: "integer",
    default: DEFAULT_ROLE_ASSIGNMENT_WAIT_SECONDS,
    example: String(DEFAULT_ROLE_ASSIGNMENT_WAIT_SECONDS),
  },
  deployerPrincipalType: { type: "string", default: "User", example: "ServicePrincipal" },
  sentinel: { type: "boolean", default: false, example: "true" },
  sentinelRulesEnabled: { type: "boolean", default: true, example: "false" },
  sentinelOnboarding: { type: "string", default: "create", example: "existing" },
  enableAuditLogging: { type: "boolean", default: false, example: "true" },
  sinks: { type: "string", default: "logs-ingestion", example: "logs-ingestion,splunk-hec" },
  syslogUrl: { type: "string", default: "", example: "tls://siem.example.com:6514" },
  syslogFormat: { type: "string", default: DEFAULT_SYSLOG_FORMAT, example: "leef" },
  syslogAppName: { type: "string", default: DEFAULT_SYSLOG_APP_NAME, example: "auditbridge" },
  syslogMaxMessageBytes: {
    type: "integer",
    default: DEFAULT_SYSLOG_MAX_MESSAGE_BYTES,
    example: "65536",
  },
  syslogCaPem: { type: "string", default: "", example: '-- "$(cat siem-ca.pem)"' },
  syslogClientCertPem: { type: "string", default: "", example: '-- "$(cat client-cert.pem)"' },
  syslogClientKeyPem: {
    type: "string",
    default: "",
    secret: true,
    example: '-- "$(cat client-key.pem)"',
  },
  splunkHecUrl: { type: "string", default: "", example: "https://splunk.example.com:8088" },
  splunkHecToken: { type: "string", default: "", secret: true, example: "<HEC token GUID>" },
  splunkHecIndex: { type: "string", default: "", example: "o365" },
  splunkHecSourcetype: {
    type: "string",
    default: DEFAULT_SPLUNK_HEC_SOURCETYPE,
    example: DEFAULT_SPLUNK_HEC_SOURCETYPE,
  },
  splunkHecAck: { type: "boolean", default: false, example: "true" },
  splunkHecCaPem: { type: "string", default: "", example: '-- "$(cat splunk-ca.pem)"' },
} as const satisfies Record<string, ConfigKeySpec>;

/**
 * Keys that configure only the bundled collector (its image, sinks and workspace): with
 * `collector none` a value other than the default is an error, not silently ignored.
 */
export const BUNDLED_ONLY_KEYS = [
  "collectorImage",
  "collectorMode",
  "collectorSchedule",
  "collectorRegistryResourceId",
  "roleAssignmentWaitSeconds",
  "sinks",
  "workspaceResourceId",
] as const satisfies readonly ConfigKey[];

/** Keys of the audit workspace and its content: they need the logs-ingestion sink. */
export const WORKSPACE_KEYS = [
  "workspaceRetentionDays",
  "tablePlan",
  "workspaceDailyCapGb",
  "tableName",
  "deleteDataOnDestroy",
  "sentinel",
  "sentinelRulesEnabled",
  "sentinelOnboarding",
] as const satisfies readonly ConfigKey[];

/** Keys of each SIEM sink: they need the sink in `sinks`. */
export const SINK_KEYS = {
  syslog: [
    "syslogUrl",
    "syslogFormat",
    "syslogAppName",
    "syslogMaxMessageBytes",
    "syslogCaPem",
    "syslogClientCertPem",
    "syslogClientKeyPem",
  ],
  "splunk-hec": [
    "splunkHecUrl",
    "splunkHecToken",
    "splunkHecIndex",
    "splunkHecSourcetype",
    "splunkHecAck",
    "splunkHecCaPem",
  ],
} as const satisfies Record<Exclude<DeployedSinkKind, "logs-ingestion">, readonly ConfigKey[]>;

/**
 * Microsoft 365 clouds whose tenants pair with Azure Government subscriptions: the azure-native
 * provider must then target the usgovernment environment.
 * https://learn.microsoft.com/azure/azure-government/documentation-government-plan-identity
 */
export const GOVERNMENT_CLOUDS: readonly CloudName[] = ["gcchigh", "dod"];
/** azure-native `environment` value of Azure Government. */
export const AZURE_GOVERNMENT_ENVIRONMENT = "usgovernment";

export type ConfigKey = keyof typeof CONFIG_KEYS;
const KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

/** App credential as configured; `TSecret` is `string` when parsed, a Pulumi secret when loaded. */
export type CredentialConfig<TSecret> =
  | {
      mode: "secret";
      lifetimeDays: number;
      rotationDays: number;
      rotationAnchor: string;
      /** Clock reading of this run; it picks the rotation period and nothing else. */
      nowMs: number;
    }
  | { mode: "certificate"; certificatePem: TSecret }
  | { mode: "federated" };

/** The sinks as configured; `TSecret` as in {@link CredentialConfig}. */
export interface SinkConfig<TSecret> {
  logsIngestion: boolean;
  syslog?: Omit<SyslogSinkArgs, "clientKeyPem"> & { clientKeyPem?: TSecret };
  splunkHec?: Omit<SplunkHecSinkArgs, "token"> & { token: TSecret };
}

/** The validated stack configuration. */
export interface StackConfig<TSecret = pulumi.Output<string>> {
  stack: string;
  m365TenantId: string;
  azureTenantId?: string;
  cloud: CloudName;
  location: string;
  resourceGroupName: string;
  namePrefix: string;
  appDisplayName: string;
  contentTypes: readonly ContentType[];
  includeServiceHealth: boolean;
  publisherId: string;
  credential: CredentialConfig<TSecret>;
  workspace:
    | { kind: "new"; retentionInDays: number; dailyQuotaGb?: number }
    | { kind: "existing"; resourceId: string };
  tableName: string;
  /** The table's plan; Basic rules out `sentinel` (docs/deploying.md#choosing-a-table-plan). */
  tablePlan: TablePlan;
  /** Who collects: the bundled collector, or none (bring your own SIEM). */
  collector: CollectorKind;
  /** Where the bundled collector delivers; absent with collector none. */
  sinks?: SinkConfig<TSecret>;
  /** The bundled collector's image; absent with collector none. */
  collectorImage?: string;
  /** always-on: a Container App; scheduled: a Container Apps Job running `run --once`; absent with collector none. */
  collectorMode?: CollectorMode;
  /** Cron expression (UTC) of the scheduled job, with single spaces; absent with collector none. */
  collectorSchedule?: string;
  collectorRegistryResourceId?: string;
  keyVaultRecoverSoftDeleted: boolean;
  deleteDataOnDestroy: boolean;
  roleAssignmentWaitSeconds: number;
  deployerPrincipalType: DeployerPrincipalType;
  /** Microsoft Sentinel onboarding and content (the OfficeActivity-shaped function is always deployed). */
  sentinel: SentinelArgs;
  /**
   * Turn the tenant's unified audit logging on at `pulumi up` (never off at destroy), with the
   * deployer's credential.
   */
  enableAuditLogging: boolean;
  /** The azure-native provider's subscription, when configured (azure-native:subscriptionId). */
  azureSubscriptionId?: string;
  /** The azure-native provider's environment, when configured (azure-native:environment). */
  azureEnvironment?: string;
}

/** A configuration problem; its message is the one line to show. */
export class StackConfigError extends AuditBridgeError<"bad-config"> {
  override readonly name: string = "StackConfigError";
  constructor(message: string) {
    super(message, { code: "bad-config" });
  }
}

/** Context of a parse: stack name, clock, and which keys are stored as secrets. */
export interface ParseContext {
  stack: string;
  nowMs: number;
  secretKeys?: ReadonlySet<string>;
  /**
   * The azure-native provider's settings (config `azure-native:*`, else its ARM_* variables):
   * the subscription it deploys to and its cloud environment, when set.
   */
  azureNative?: { subscriptionId?: string; environment?: string };
}

const INTEGER_RE = /^-?\d+$/;
const LOCATION_RE = /^[a-z][a-z0-9]+$/;
// Resource group names: letters, digits, underscores, parentheses, hyphens, periods; no trailing period.
const RESOURCE_GROUP_RE = /^[-\w.()]{0,89}[-\w()]$/;

type Check<T> = (value: string, ctx: z.RefinementCtx) => T;

/** A required-or-defaulted string field validated by a problem function. */
function checked<T>(check: Check<T>) {
  return z.string().transform((value, ctx) => check(value, ctx));
}

function problem(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER as never;
}

function integer(min: number, max: number): Check<number> {
  return (value, ctx) => {
    const n = INTEGER_RE.test(value) ? Number(value) : Number.NaN;
    const p = Number.isNaN(n)
      ? `must be a whole number between ${min} and ${max}`
      : integerRangeProblem(n, min, max);
    return p ? problem(ctx, p) : n;
  };
}

function guid(value: string, ctx: z.RefinementCtx): string {
  const p = guidProblem(value);
  return p ? problem(ctx, p) : value.toLowerCase();
}

function boolean(value: string, ctx: z.RefinementCtx): boolean {
  return value === "true"
    ? true
    : value === "false"
      ? false
      : problem(ctx, "must be true or false");
}

const optionalGuid = (value: string, ctx: z.RefinementCtx): string | undefined =>
  value === "" ? undefined : guid(value, ctx);

/** A value checked by one of the collector's own setting parsers (domain/siemSettings.ts). */
function setting<T>(parse: (value: string) => SettingResult<T>): Check<T> {
  return (value, ctx) => {
    const result = parse(value);
    return result.ok ? result.value : problem(ctx, result.problem);
  };
}

/** An optional value: empty means "not set", anything else goes through `check`. */
function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, ctx) => (value === "" ? undefined : check(value, ctx));
}

const certificatesPem: Check<string> = (value, ctx) => {
  const p = certificatesPemProblem(value);
  return p ? problem(ctx, p) : value;
};

/** `sinks`: a comma list of the deployable sinks, in a fixed order, without repeats. */
function sinkList(value: string, ctx: z.RefinementCtx): DeployedSinkKind[] {
  const parsed = parseDeployedSinks(value);
  return parsed.ok ? parsed.value : problem(ctx, parsed.problem);
}

function fieldSchemas(context: ParseContext) {
  return z.object({
    m365TenantId: checked(guid),
    azureTenantId: checked(optionalGuid),
    cloud: checked((value, ctx) =>
      (CLOUD_NAMES as readonly string[]).includes(value)
        ? (value as CloudName)
        : problem(ctx, `must be one of ${CLOUD_NAMES.join(", ")}`),
    ),
    location: checked((value, ctx) =>
      LOCATION_RE.test(value)
        ? value
        : problem(
            ctx,
            "must be an Azure region name like westeurope (see az account list-locations -o table)",
          ),
    ),
    resourceGroupName: checked((value, ctx) =>
      RESOURCE_GROUP_RE.test(value)
        ? value
        : problem(
            ctx,
            "must be an existing resource group's name (letters, digits, -_.() up to 90 characters)",
          ),
    ),
    namePrefix: checked((value, ctx) => {
      if (value === "") {
        const derived = namePrefixFromStack(context.stack);
        return (
          derived ??
          problem(
            ctx,
            `is required because the stack name ${context.stack} yields no usable prefix`,
          )
        );
      }
      const p = namePrefixProblem(value);
      return p ? problem(ctx, p) : value;
    }),
    appDisplayName: checked((value) => value || `AuditBridge audit reader (${context.stack})`),
    contentTypes: checked((value, ctx) => {
      const parsed = parseContentTypes(value);
      return parsed.ok ? parsed.value : problem(ctx, parsed.problem);
    }),
    includeServiceHealth: checked(boolean),
    publisherId: checked(optionalGuid),
    credentialMode: checked((value, ctx) =>
      (CREDENTIAL_MODES as readonly string[]).includes(value)
        ? (value as CredentialMode)
        : problem(ctx, `must be one of ${CREDENTIAL_MODES.join(", ")}`),
    ),
    secretLifetimeDays: checked(integer(1, MAX_SECRET_LIFETIME_DAYS)),
    secretRotationDays: checked(integer(1, MAX_SECRET_LIFETIME_DAYS)),
    secretRotationAnchor: checked((value, ctx) => {
      const p = rotationAnchorProblem(value, context.nowMs);
      return p ? problem(ctx, p) : value;
    }),
    // Checked with credentialMode below: whether it belongs here at all comes first.
    clientCertificatePem: checked((value) => (value === "" ? undefined : value)),
    workspaceResourceId: checked((value, ctx) => {
      if (value === "") return undefined;
      const p = resourceIdProblem(value, "Microsoft.OperationalInsights", "workspaces");
      return p ? problem(ctx, p) : value;
    }),
    workspaceRetentionDays: checked(
      integer(MIN_WORKSPACE_RETENTION_DAYS, MAX_WORKSPACE_RETENTION_DAYS),
    ),
    workspaceDailyCapGb: checked((value, ctx) => {
      const n = INTEGER_RE.test(value) ? Number(value) : Number.NaN;
      return n === -1 || (Number.isInteger(n) && n >= 1 && n <= 100_000)
        ? n
        : problem(ctx, "must be a whole number of GB from 1 to 100000, or -1 for no cap");
    }),
    tableName: checked((value, ctx) => {
      const p = tableNameProblem(value);
      return p ? problem(ctx, p) : value;
    }),
    tablePlan: checked((value, ctx) => {
      const plan = TABLE_PLANS.find((p) => p.toLowerCase() === value.toLowerCase());
      return (
        plan ??
        problem(
          ctx,
          "must be Analytics (full queries, Microsoft Sentinel) or Basic (cheaper ingestion, single-table queries, no Sentinel content)",
        )
      );
    }),
    collector: checked((value, ctx) =>
      (COLLECTOR_KINDS as readonly string[]).includes(value)
        ? (value as CollectorKind)
        : problem(
            ctx,
            "must be bundled (AuditBridge's collector in Azure Container Apps) or none (bring your own SIEM: only the app, its credential and a Key Vault)",
          ),
    ),
    collectorImage: checked(
      optional((value, ctx) => {
        const p = imageReferenceProblem(value);
        return p ? problem(ctx, p) : value;
      }),
    ),
    collectorMode: checked((value, ctx) =>
      (COLLECTOR_MODES as readonly string[]).includes(value)
        ? (value as CollectorMode)
        : problem(
            ctx,
            `must be ${COLLECTOR_MODES.join(" or ")} (a Container App, or a Container Apps Job on collectorSchedule)`,
          ),
    ),
    collectorSchedule: checked((value, ctx) => {
      const parsed = parseCronSchedule(value === "" ? DEFAULT_COLLECTOR_SCHEDULE : value);
      return parsed.ok ? parsed.value.expression : problem(ctx, parsed.problem);
    }),
    collectorRegistryResourceId: checked((value, ctx) => {
      if (value === "") return undefined;
      const p = resourceIdProblem(value, "Microsoft.ContainerRegistry", "registries");
      return p ? problem(ctx, p) : value;
    }),
    keyVaultRecoverSoftDeleted: checked(boolean),
    deleteDataOnDestroy: checked(boolean),
    roleAssignmentWaitSeconds: checked(integer(0, MAX_ROLE_ASSIGNMENT_WAIT_SECONDS)),
    deployerPrincipalType: checked((value, ctx) =>
      (DEPLOYER_PRINCIPAL_TYPES as readonly string[]).includes(value)
        ? (value as DeployerPrincipalType)
        : problem(
            ctx,
            `must be ${DEPLOYER_PRINCIPAL_TYPES.join(" or ")}: the kind of identity that runs pulumi up`,
          ),
    ),
    sentinel: checked(boolean),
    sentinelRulesEnabled: checked(boolean),
    enableAuditLogging: checked(boolean),
    sinks: checked(sinkList),
    // The URL's transport decides the size limit and whether TLS files apply: checked below.
    syslogUrl: checked(optional(setting(parseSyslogUrl))),
    syslogFormat: checked(setting<SyslogFormat>(parseSyslogFormat)),
    syslogAppName: checked(setting(parseSyslogAppName)),
    syslogMaxMessageBytes: checked(integer(MIN_SYSLOG_MAX_MESSAGE_BYTES, MAX_SYSLOG_MESSAGE_BYTES)),
    syslogCaPem: checked(optional(certificatesPem)),
    syslogClientCertPem: checked(optional(certificatesPem)),
    // Secrets: whether they belong here and are stored encrypted comes first (below).
    syslogClientKeyPem: checked((value) => (value === "" ? undefined : value)),
    splunkHecUrl: checked(optional(setting(parseSplunkHecUrl))),
    splunkHecToken: checked((value) => (value === "" ? undefined : value)),
    splunkHecIndex: checked(optional(setting(parseSplunkIndex))),
    splunkHecSourcetype: checked(setting(parseSplunkSourcetype)),
    splunkHecAck: checked(boolean),
    splunkHecCaPem: checked(optional(certificatesPem)),
    sentinelOnboarding: checked((value, ctx) =>
      value === "create" || value === "existing"
        ? value
        : problem(
            ctx,
            "must be create (onboard the workspace to Microsoft Sentinel) or existing (it already is)",
          ),
    ),
  });
}

/** The fix hint for a key: the `pulumi config set` command with an example value. */
function fixFor(key: ConfigKey): string {
  const spec: ConfigKeySpec = CONFIG_KEYS[key];
  return `set it with pulumi config set${spec.secret ? " --secret" : ""} ${CONFIG_NAMESPACE}:${key} ${spec.example}`;
}

function lineFor(key: ConfigKey, what: string, raw: string | undefined): string {
  const spec: ConfigKeySpec = CONFIG_KEYS[key];
  // A PEM (or any multi-line value) would break the one line; secrets are never echoed.
  const shown =
    raw !== undefined && raw !== "" && !spec.secret && !raw.includes("\n") ? ` (got ${raw})` : "";
  return `${CONFIG_NAMESPACE}:${key} ${what}${shown}: ${fixFor(key)}`;
}

/**
 * Validates raw config values (keys without the namespace; values as the CLI passes them) into a
 * frozen {@link StackConfig}. Pure: no Pulumi runtime needed. Throws {@link StackConfigError}.
 */
export function parseStackConfig(
  raw: Readonly<Record<string, string | undefined>>,
  context: ParseContext,
): StackConfig<string> {
  for (const key of Object.keys(raw)) {
    if (!(KEY_NAMES as string[]).includes(key)) {
      const near = closestName(key, KEY_NAMES);
      throw new StackConfigError(
        `${CONFIG_NAMESPACE}:${key} is not an AuditBridge setting${near ? ` (did you mean ${CONFIG_NAMESPACE}:${near}?)` : ""}: remove it with pulumi config rm ${CONFIG_NAMESPACE}:${key}`,
      );
    }
  }

  const values: Record<string, string> = {};
  for (const key of KEY_NAMES) {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    const given = raw[key]?.trim();
    if (given !== undefined && given !== "") values[key] = given;
    else if (spec.default !== undefined) values[key] = String(spec.default);
    else throw new StackConfigError(lineFor(key, "is required", undefined));
  }

  const parsed = fieldSchemas(context).safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path[0] as ConfigKey;
    throw new StackConfigError(lineFor(key, issue.message, raw[key]?.trim()));
  }
  const v = parsed.data;

  // Cross-key rules.
  const rotation = secretRotationProblem(v.secretRotationDays, v.secretLifetimeDays);
  if (v.credentialMode === "secret" && rotation) {
    throw new StackConfigError(lineFor("secretRotationDays", rotation, values.secretRotationDays));
  }
  if (v.credentialMode !== "certificate" && v.clientCertificatePem !== undefined) {
    throw new StackConfigError(
      `${CONFIG_NAMESPACE}:clientCertificatePem is set but credentialMode is ${v.credentialMode}: remove it with pulumi config rm ${CONFIG_NAMESPACE}:clientCertificatePem, or set ${CONFIG_NAMESPACE}:credentialMode certificate`,
    );
  }
  if (v.credentialMode === "certificate") {
    const pem = v.clientCertificatePem;
    const certificate =
      pem === undefined
        ? "is required when credentialMode is certificate"
        : !context.secretKeys?.has("clientCertificatePem")
          ? "holds a private key and must be stored encrypted"
          : certificateBundleProblem(pem, context.nowMs);
    if (certificate)
      throw new StackConfigError(lineFor("clientCertificatePem", certificate, undefined));
  }
  const sinks = sinkRules(v, raw, values, context);
  if (v.collectorMode !== "scheduled" && values.collectorSchedule !== "") {
    throw new StackConfigError(
      `${CONFIG_NAMESPACE}:collectorSchedule is set but collectorMode is ${v.collectorMode}: remove it with pulumi config rm ${CONFIG_NAMESPACE}:collectorSchedule, or set ${CONFIG_NAMESPACE}:collectorMode scheduled`,
    );
  }
  if (v.collectorRegistryResourceId !== undefined && v.collectorImage !== undefined) {
    const registry = parseResourceId(v.collectorRegistryResourceId)!.name.toLowerCase();
    const host = imageRegistryHost(v.collectorImage).toLowerCase();
    if (!host.startsWith(`${registry}.`)) {
      throw new StackConfigError(
        `${CONFIG_NAMESPACE}:collectorImage is pulled from ${host} but ${CONFIG_NAMESPACE}:collectorRegistryResourceId names registry ${registry}: ${fixFor("collectorImage").replace("myregistry", registry)}`,
      );
    }
  }

  // Sentinel's rules, hunting queries and workbook all read the table through the
  // OfficeActivity-shaped function, and a Basic table answers no user-defined function, no join,
  // and no scheduled analytics rule: https://learn.microsoft.com/azure/azure-monitor/logs/basic-logs-query
  // and https://learn.microsoft.com/azure/sentinel/basic-logs-use-cases
  if (v.sentinel && v.tablePlan === "Basic") {
    throw new StackConfigError(
      `${CONFIG_NAMESPACE}:sentinel needs ${CONFIG_NAMESPACE}:tablePlan Analytics (a Basic table cannot feed Sentinel analytics rules, hunting queries or functions): set it with pulumi config set ${CONFIG_NAMESPACE}:tablePlan Analytics, or pulumi config set ${CONFIG_NAMESPACE}:sentinel false`,
    );
  }

  const environment = context.azureNative?.environment?.trim().toLowerCase() || "public";
  if (GOVERNMENT_CLOUDS.includes(v.cloud) && environment !== AZURE_GOVERNMENT_ENVIRONMENT) {
    throw new StackConfigError(
      `${CONFIG_NAMESPACE}:cloud ${v.cloud} deploys to Azure Government but azure-native:environment is ${environment}: set it with pulumi config set azure-native:environment ${AZURE_GOVERNMENT_ENVIRONMENT}`,
    );
  }
  const subscriptionId = context.azureNative?.subscriptionId?.trim() || undefined;
  if (subscriptionId !== undefined && guidProblem(subscriptionId)) {
    throw new StackConfigError(
      `azure-native:subscriptionId must be a subscription GUID (got ${subscriptionId}): set it with pulumi config set azure-native:subscriptionId <subscription GUID>`,
    );
  }

  let credential: CredentialConfig<string>;
  switch (v.credentialMode) {
    case "secret":
      credential = {
        mode: "secret",
        lifetimeDays: v.secretLifetimeDays,
        rotationDays: v.secretRotationDays,
        rotationAnchor: v.secretRotationAnchor,
        nowMs: context.nowMs,
      };
      break;
    case "certificate":
      credential = { mode: "certificate", certificatePem: v.clientCertificatePem! };
      break;
    case "federated":
      credential = { mode: "federated" };
      break;
  }

  return deepFreeze({
    stack: context.stack,
    m365TenantId: v.m365TenantId,
    ...(v.azureTenantId !== undefined ? { azureTenantId: v.azureTenantId } : {}),
    cloud: v.cloud,
    location: v.location,
    resourceGroupName: v.resourceGroupName,
    namePrefix: v.namePrefix,
    appDisplayName: v.appDisplayName,
    contentTypes: v.contentTypes,
    includeServiceHealth: v.includeServiceHealth,
    publisherId: v.publisherId ?? v.m365TenantId,
    credential,
    workspace:
      v.workspaceResourceId !== undefined
        ? { kind: "existing" as const, resourceId: v.workspaceResourceId }
        : {
            kind: "new" as const,
            retentionInDays: v.workspaceRetentionDays,
            ...(v.workspaceDailyCapGb > 0 ? { dailyQuotaGb: v.workspaceDailyCapGb } : {}),
          },
    tableName: v.tableName,
    tablePlan: v.tablePlan,
    collector: v.collector,
    ...(sinks !== undefined ? { sinks } : {}),
    ...(v.collectorImage !== undefined ? { collectorImage: v.collectorImage } : {}),
    ...(v.collector === "bundled"
      ? { collectorMode: v.collectorMode, collectorSchedule: v.collectorSchedule }
      : {}),
    ...(v.collectorRegistryResourceId !== undefined
      ? { collectorRegistryResourceId: v.collectorRegistryResourceId }
      : {}),
    keyVaultRecoverSoftDeleted: v.keyVaultRecoverSoftDeleted,
    deleteDataOnDestroy: v.deleteDataOnDestroy,
    roleAssignmentWaitSeconds: v.roleAssignmentWaitSeconds,
    deployerPrincipalType: v.deployerPrincipalType,
    sentinel: v.sentinel
      ? { enabled: true, onboarding: v.sentinelOnboarding, rulesEnabled: v.sentinelRulesEnabled }
      : { enabled: false },
    enableAuditLogging: v.enableAuditLogging,
    ...(subscriptionId !== undefined ? { azureSubscriptionId: subscriptionId.toLowerCase() } : {}),
    ...(context.azureNative?.environment?.trim() ? { azureEnvironment: environment } : {}),
  });
}

type ParsedFields = z.infer<ReturnType<typeof fieldSchemas>>;

/**
 * The rules between `collector`, `sinks` and the keys they govern; returns the sinks (undefined
 * with collector none). A key that only matters for a part the stack does not deploy is an
 * error when set to anything but its default: a setting that silently does nothing hides a
 * mistake.
 */
function sinkRules(
  v: ParsedFields,
  raw: Readonly<Record<string, string | undefined>>,
  values: Readonly<Record<string, string>>,
  context: ParseContext,
): SinkConfig<string> | undefined {
  const changed = (key: ConfigKey): boolean => {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    const given = raw[key]?.trim();
    return given !== undefined && given !== "" && given !== String(spec.default ?? "");
  };
  const remove = (key: ConfigKey) => `remove it with pulumi config rm ${CONFIG_NAMESPACE}:${key}`;

  if (v.collector === "none") {
    if (v.credentialMode === "federated") {
      throw new StackConfigError(
        `${CONFIG_NAMESPACE}:credentialMode federated needs the bundled collector's managed identity but ${CONFIG_NAMESPACE}:collector is none: set it with pulumi config set ${CONFIG_NAMESPACE}:credentialMode secret (or certificate)`,
      );
    }
    const keys: readonly ConfigKey[] = [
      ...BUNDLED_ONLY_KEYS,
      ...WORKSPACE_KEYS,
      ...SINK_KEYS.syslog,
      ...SINK_KEYS["splunk-hec"],
    ];
    const extra = keys.find(changed);
    if (extra) {
      throw new StackConfigError(
        `${CONFIG_NAMESPACE}:${extra} configures the bundled collector but ${CONFIG_NAMESPACE}:collector is none: ${remove(extra)}`,
      );
    }
    return undefined;
  }

  if (v.collectorImage === undefined) {
    throw new StackConfigError(lineFor("collectorImage", "is required", undefined));
  }
  const kinds = v.sinks;
  for (const sink of ["syslog", "splunk-hec"] as const) {
    if (kinds.includes(sink)) continue;
    const extra = SINK_KEYS[sink].find(changed);
    if (extra) {
      throw new StackConfigError(
        `${CONFIG_NAMESPACE}:${extra} is set but ${CONFIG_NAMESPACE}:sinks does not include ${sink}: ${remove(extra)}, or add ${sink} to ${CONFIG_NAMESPACE}:sinks`,
      );
    }
  }
  if (!kinds.includes("logs-ingestion")) {
    const extra = WORKSPACE_KEYS.find(changed);
    if (extra) {
      throw new StackConfigError(
        `${CONFIG_NAMESPACE}:${extra} applies to the audit workspace, which only the logs-ingestion sink creates: ${remove(extra)}, or add logs-ingestion to ${CONFIG_NAMESPACE}:sinks`,
      );
    }
  }
  const mustBeEncrypted = (key: "syslogClientKeyPem" | "splunkHecToken", what: string) => {
    if (!context.secretKeys?.has(key)) {
      throw new StackConfigError(lineFor(key, `${what} and must be stored encrypted`, undefined));
    }
  };

  let syslog: SinkConfig<string>["syslog"];
  if (kinds.includes("syslog")) {
    const url = v.syslogUrl;
    if (url === undefined) {
      throw new StackConfigError(
        lineFor("syslogUrl", "is required when sinks includes syslog", undefined),
      );
    }
    const max = parseSyslogMaxMessageBytes(String(v.syslogMaxMessageBytes), url.transport);
    if (!max.ok) {
      throw new StackConfigError(
        lineFor(
          "syslogMaxMessageBytes",
          `must fit the ${url.transport} transport: ${max.problem}`,
          values.syslogMaxMessageBytes,
        ),
      );
    }
    const cert = v.syslogClientCertPem;
    const key = v.syslogClientKeyPem;
    if ((cert === undefined) !== (key === undefined)) {
      const missing = cert === undefined ? "syslogClientCertPem" : "syslogClientKeyPem";
      throw new StackConfigError(
        lineFor(
          missing,
          "is required too: the client certificate and its key go together",
          undefined,
        ),
      );
    }
    if (url.transport !== "tls") {
      const tlsOnly = (["syslogCaPem", "syslogClientCertPem", "syslogClientKeyPem"] as const).find(
        (k) => v[k] !== undefined,
      );
      if (tlsOnly) {
        throw new StackConfigError(
          `${CONFIG_NAMESPACE}:${tlsOnly} applies to a tls:// syslogUrl only (got ${url.transport}://): ${remove(tlsOnly)}, or set ${CONFIG_NAMESPACE}:syslogUrl to tls://host:port`,
        );
      }
    }
    if (key !== undefined) {
      mustBeEncrypted("syslogClientKeyPem", "holds a private key");
      const p = privateKeyPemProblem(key);
      if (p) throw new StackConfigError(lineFor("syslogClientKeyPem", p, undefined));
    }
    syslog = {
      url: values.syslogUrl!,
      format: v.syslogFormat,
      appName: v.syslogAppName,
      maxMessageBytes: max.value,
      ...(v.syslogCaPem !== undefined ? { caPem: v.syslogCaPem } : {}),
      ...(cert !== undefined ? { clientCertPem: cert } : {}),
      ...(key !== undefined ? { clientKeyPem: key } : {}),
    };
  }

  let splunkHec: SinkConfig<string>["splunkHec"];
  if (kinds.includes("splunk-hec")) {
    if (v.splunkHecUrl === undefined) {
      throw new StackConfigError(
        lineFor("splunkHecUrl", "is required when sinks includes splunk-hec", undefined),
      );
    }
    const token = v.splunkHecToken;
    if (token === undefined) {
      throw new StackConfigError(
        lineFor("splunkHecToken", "is required when sinks includes splunk-hec", undefined),
      );
    }
    mustBeEncrypted("splunkHecToken", "is a credential");
    const parsedToken = parseSplunkHecToken(token);
    if (!parsedToken.ok) {
      throw new StackConfigError(
        lineFor("splunkHecToken", `is invalid: ${parsedToken.problem}`, undefined),
      );
    }
    splunkHec = {
      url: values.splunkHecUrl!,
      token: parsedToken.value,
      sourcetype: v.splunkHecSourcetype,
      ack: v.splunkHecAck,
      ...(v.splunkHecIndex !== undefined ? { index: v.splunkHecIndex } : {}),
      ...(v.splunkHecCaPem !== undefined ? { caPem: v.splunkHecCaPem } : {}),
    };
  }
  return {
    logsIngestion: kinds.includes("logs-ingestion"),
    ...(syslog ? { syslog } : {}),
    ...(splunkHec ? { splunkHec } : {}),
  };
}

/**
 * Reads this stack's `auditbridge:` config through Pulumi and validates it. A problem ends the
 * program with Pulumi's RunError: the CLI prints the one line, without a stack trace.
 */
export function loadStackConfig(nowMs: number = Date.now()): StackConfig {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: Record<string, string | undefined> = {};
  const secretKeys = new Set<string>();
  // Every key of the namespace, known or not, so a misspelt key is reported rather than ignored.
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    raw[key] = config.get(key);
    if (isConfigSecret(fullKey)) secretKeys.add(key);
  }
  // The azure-native provider reads the same settings from its config, else from ARM_* variables.
  // https://www.pulumi.com/registry/packages/azure-native/installation-configuration/
  const azureNativeConfig = new pulumi.Config("azure-native");
  const azureNative = {
    subscriptionId: azureNativeConfig.get("subscriptionId") ?? process.env.ARM_SUBSCRIPTION_ID,
    environment: azureNativeConfig.get("environment") ?? process.env.ARM_ENVIRONMENT,
  };
  let parsed: StackConfig<string>;
  try {
    parsed = parseStackConfig(raw, { stack: pulumi.getStack(), nowMs, secretKeys, azureNative });
  } catch (error) {
    if (error instanceof StackConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
  const credential: CredentialConfig<pulumi.Output<string>> =
    parsed.credential.mode === "certificate"
      ? Object.freeze({
          mode: "certificate",
          certificatePem: pulumi.secret(parsed.credential.certificatePem),
        })
      : parsed.credential;
  const { sinks, ...rest } = parsed;
  return Object.freeze({
    ...rest,
    credential,
    ...(sinks !== undefined ? { sinks: secretSinks(sinks) } : {}),
  });
}

/** The sinks with their secret values (HEC token, syslog client key) as Pulumi secrets. */
function secretSinks(sinks: SinkConfig<string>): SinkConfig<pulumi.Output<string>> {
  const { syslog, splunkHec } = sinks;
  let secretSyslog: SinkConfig<pulumi.Output<string>>["syslog"];
  if (syslog) {
    const { clientKeyPem, ...rest } = syslog;
    secretSyslog = Object.freeze({
      ...rest,
      ...(clientKeyPem !== undefined ? { clientKeyPem: pulumi.secret(clientKeyPem) } : {}),
    });
  }
  return Object.freeze({
    logsIngestion: sinks.logsIngestion,
    ...(secretSyslog ? { syslog: secretSyslog } : {}),
    ...(splunkHec
      ? { splunkHec: Object.freeze({ ...splunkHec, token: pulumi.secret(splunkHec.token) }) }
      : {}),
  });
}

/**
 * Whether a key was stored with `--secret`. The runtime exports `isConfigSecret` but its type
 * declarations omit it; when it is absent, every key counts as secret (the check is skipped).
 */
function isConfigSecret(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  return runtime.isConfigSecret ? runtime.isConfigSecret(fullKey) : true;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
