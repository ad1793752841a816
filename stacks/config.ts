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
import type { SentinelArgs } from "../components/sentinelContent";
import {
  certificateBundleProblem,
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
  resourceIdProblem,
  rotationAnchorProblem,
  secretRotationProblem,
  tableNameProblem,
} from "../components/validators";
import { CLOUD_NAMES, type CloudName } from "../domain/clouds";
import { CONTENT_TYPES, type ContentType, parseContentTypes } from "../domain/contentTypes";
import { AuditBridgeError } from "../domain/errors";
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
  collectorImage: { type: "string", example: "myregistry.azurecr.io/auditbridge-collector:0.1.0" },
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
} as const satisfies Record<string, ConfigKeySpec>;

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
  collectorImage: string;
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
    collectorImage: checked((value, ctx) => {
      const p = imageReferenceProblem(value);
      return p ? problem(ctx, p) : value;
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
  const shown = raw !== undefined && raw !== "" && !spec.secret ? ` (got ${raw})` : "";
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
  if (v.collectorRegistryResourceId !== undefined) {
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
    collectorImage: v.collectorImage,
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
  return Object.freeze({ ...parsed, credential });
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
