/**
 * Inputs of `npm run preflight`: command-line flags, a Pulumi stack's config (read through the
 * Pulumi CLI) and a few environment variables, merged (flags > stack config > environment) and
 * validated into one frozen {@link PreflightConfig}. The only preflight module that reads input.
 */
import { Command, CommanderError, Option } from "commander";
import { z } from "zod";
import { resourceNames, uniqueSuffix } from "../../components/naming";
import {
  namePrefixFromStack,
  namePrefixProblem,
  parseResourceId,
  resourceIdProblem,
} from "../../components/validators";
import {
  ARM_ENDPOINTS,
  CLOUD_NAMES,
  CLOUDS,
  type CloudName,
  isMicrosoftAuthorityHost,
} from "../../domain/clouds";
import {
  APP_CREDENTIAL_KINDS,
  type AppCredentialKind,
  DEPLOYED_SINK_KINDS,
  type DeployedSinkKind,
  parseDeployedSinks,
} from "../../domain/collectorEnv";
import { DEFAULT_TABLE_PLAN, TABLE_PLANS, type TablePlan } from "../../domain/table";
import { CommandInputError } from "../common/errors";
import { commanderMessage, guidFlag, httpsUrlFlag, nonEmpty } from "../common/flags";
import { runPulumiCli } from "../common/stack";
import {
  type DeploymentShape,
  PREFLIGHT_COLLECTOR_KINDS,
  PREFLIGHT_COLLECTOR_MODES,
  type PreflightCollectorKind,
  type PreflightCollectorMode,
  type PreflightSentinel,
} from "./scope";

/** Default for `--timeout`: the whole run must finish within this many seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** Bad input: main.ts prints the one-line message and exits with code 2. */
export class PreflightInputError extends CommandInputError {
  override readonly name: string = "PreflightInputError";
}

/** Type guard for {@link PreflightInputError}. */
export function isPreflightInputError(error: unknown): error is PreflightInputError {
  return error instanceof PreflightInputError;
}

/** Everything a preflight run needs, validated and frozen. */
export interface PreflightConfig extends DeploymentShape {
  readonly stack: string | null;
  /** The Microsoft 365 tenant (where the app is registered and consent is granted). */
  readonly tenantId: string;
  /** The Azure subscription's tenant; equals tenantId unless the stack sets azureTenantId. */
  readonly azureTenantId: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** ARM location name, e.g. westeurope. */
  readonly location: string;
  readonly namePrefix: string;
  /** The Key Vault name the stack will use (components/naming.ts). */
  readonly keyVaultName: string;
  /** Stack config keyVaultRecoverSoftDeleted: a soft-deleted vault of that name is recovered. */
  readonly keyVaultRecoverSoftDeleted: boolean;
  /** bundled (default) or none: bring your own SIEM, no collector resources. */
  readonly collector: PreflightCollectorKind;
  /** always-on (a Container App) or scheduled (a Container Apps Job); null with collector none. */
  readonly collectorMode: PreflightCollectorMode | null;
  /** The bundled collector's sinks (default logs-ingestion); empty with collector none. */
  readonly sinks: readonly DeployedSinkKind[];
  /** Plan of the audit table (it exists only with the logs-ingestion sink). */
  readonly tablePlan: TablePlan;
  /** With logs-ingestion: the audit workspace; without: where the environment's logs go. */
  readonly workspaceResourceId: string | null;
  readonly registryResourceId: string | null;
  readonly cloud: CloudName;
  readonly authorityHost: string;
  /** True when the authority host is not one of Microsoft's (MSAL instance discovery is off). */
  readonly disableInstanceDiscovery: boolean;
  /** Resource Manager base URL. */
  readonly armEndpoint: string;
  /** Scope of ARM tokens: `<armEndpoint>/.default`, as the Azure SDK management clients compute it. */
  readonly armScope: string;
  readonly graphEndpoint: string;
  /** Graph token audience (Graph's public URL even when the endpoint is overridden). */
  readonly graphAudience: string;
  readonly json: boolean;
  readonly timeoutMs: number;
}

/** Flags as commander hands them over (strings until validated). */
interface RawFlags {
  stack?: string;
  tenantId?: string;
  azureTenantId?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  location?: string;
  namePrefix?: string;
  workspaceResourceId?: string;
  registryResourceId?: string;
  collector?: string;
  collectorMode?: string;
  sinks?: string;
  credentialMode?: string;
  cloud?: string;
  authorityHost?: string;
  armEndpoint?: string;
  graphEndpoint?: string;
  json?: boolean;
  timeout?: string;
}

/** The stack config values preflight reads (`auditbridge:` and `azure-native:` namespaces). */
export interface StackSettings {
  m365TenantId?: string;
  azureTenantId?: string;
  subscriptionId?: string;
  location?: string;
  resourceGroupName?: string;
  namePrefix?: string;
  workspaceResourceId?: string;
  collectorRegistryResourceId?: string;
  keyVaultRecoverSoftDeleted?: string;
  collector?: string;
  collectorMode?: string;
  sinks?: string;
  tablePlan?: string;
  credentialMode?: string;
  sentinel?: string;
  sentinelOnboarding?: string;
  /** "true" when the stack sets `auditbridge:syslogClientKeyPem` (a secret; only its presence is read). */
  syslogClientKeySet?: string;
  cloud?: string;
}

/** Reads a stack's config; injectable so tests can point at a fake or missing `pulumi`. */
export interface StackConfigReader {
  config(stack: string): Promise<StackSettings>;
}

/** Builds the commander program; `--help` starts with an example, as every AuditBridge CLI does. */
export function buildProgram(): Command {
  const program = new Command("preflight")
    .description(
      "Read-only checks before `pulumi up`: resource group and permissions, resource providers, " +
        "Key Vault name, existing workspace/registry, Container Apps region, and the Microsoft 365 " +
        "tenant's directory role, consent rights and Office 365 Management APIs service principal. " +
        "Never creates or changes anything.",
    )
    .addHelpText(
      "beforeAll",
      "Example:\n  npm run preflight -- --stack contoso\n" +
        "  npm run preflight -- --tenant-id <guid> --subscription-id <guid> --resource-group rg-auditbridge " +
        "--location westeurope --name-prefix contoso --json\n",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 all checks pass, 1 any check fails, 3 only warnings, 2 bad input.\n" +
        "Signs in as you: DefaultAzureCredential (environment, workload identity, managed identity, az login).",
    )
    .option("--stack <name>", "read inputs from this Pulumi stack's config (needs the pulumi CLI)")
    .option("--tenant-id <guid>", "Microsoft 365 tenant id (env AZURE_TENANT_ID)")
    .option("--azure-tenant-id <guid>", "the Azure subscription's tenant, if not the M365 tenant")
    .option("--subscription-id <guid>", "Azure subscription id (env AZURE_SUBSCRIPTION_ID)")
    .option("--resource-group <name>", "existing resource group the stack deploys into")
    .option("--location <name>", "Azure region, e.g. westeurope")
    .option("--name-prefix <prefix>", "namePrefix of the stack (default: derived from --stack)")
    .option("--workspace-resource-id <id>", "existing Log Analytics workspace resource id")
    .option("--registry-resource-id <id>", "Azure Container Registry resource id (AcrPull)")
    .option(
      "--collector <kind>",
      "bundled (default): the collector in Container Apps; none: bring your own SIEM",
    )
    .option("--collector-mode <mode>", "always-on (default): a Container App; scheduled: a Job")
    .option(
      "--sinks <list>",
      `comma list of ${DEPLOYED_SINK_KINDS.join(", ")} (default logs-ingestion)`,
    )
    .option(
      "--credential-mode <mode>",
      `${APP_CREDENTIAL_KINDS.join(", ")}: how the app signs in (default secret)`,
    )
    .addOption(
      new Option("--cloud <name>", "Microsoft 365 cloud (env O365_CLOUD)").choices([
        ...CLOUD_NAMES,
      ]),
    )
    .option("--authority-host <url>", "Entra ID login host override (env AZURE_AUTHORITY_HOST)")
    .option(
      "--arm-endpoint <url>",
      "Azure Resource Manager base URL override (env AZURE_RESOURCE_MANAGER_ENDPOINT)",
    )
    .option(
      "--graph-endpoint <url>",
      "Microsoft Graph base URL override (env MICROSOFT_GRAPH_ENDPOINT)",
    )
    .option("--json", "print a JSON report instead of the table")
    .option("--timeout <seconds>", `bound for the whole run (default ${DEFAULT_TIMEOUT_SECONDS})`);
  program.exitOverride();
  program.configureOutput({ writeErr: () => {} });
  return program;
}

/** Help text for `--help`. */
export function helpText(): string {
  return buildProgram().helpInformation();
}

/** Parses argv (without node and script) into raw flags; one-line errors name the flag. */
export function parseFlags(argv: readonly string[]): RawFlags | "help" {
  const program = buildProgram();
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help") {
        return "help";
      }
      throw new PreflightInputError(commanderMessage(error, "preflight"));
    }
    throw error;
  }
  return program.opts<RawFlags>();
}

/** Config keys preflight reads, by namespace-qualified name. */
const STACK_KEYS: Readonly<Record<string, keyof StackSettings>> = {
  "auditbridge:m365TenantId": "m365TenantId",
  "auditbridge:azureTenantId": "azureTenantId",
  "auditbridge:location": "location",
  "auditbridge:resourceGroupName": "resourceGroupName",
  "auditbridge:namePrefix": "namePrefix",
  "auditbridge:workspaceResourceId": "workspaceResourceId",
  "auditbridge:collectorRegistryResourceId": "collectorRegistryResourceId",
  "auditbridge:keyVaultRecoverSoftDeleted": "keyVaultRecoverSoftDeleted",
  "auditbridge:collector": "collector",
  "auditbridge:collectorMode": "collectorMode",
  "auditbridge:sinks": "sinks",
  "auditbridge:tablePlan": "tablePlan",
  "auditbridge:credentialMode": "credentialMode",
  "auditbridge:sentinel": "sentinel",
  "auditbridge:sentinelOnboarding": "sentinelOnboarding",
  "auditbridge:cloud": "cloud",
  "azure-native:subscriptionId": "subscriptionId",
};

/**
 * Reduces `pulumi config --json` output to the settings preflight reads. Secret values (shown as
 * `[secret]` without `--show-secrets`) are never among them and never kept. Pure; exported for tests.
 */
export function stackSettingsFromJson(text: string): StackSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PreflightInputError("pulumi config --json printed something that is not JSON");
  }
  if (!parsed || typeof parsed !== "object") return {};
  const out: StackSettings = {};
  for (const [key, entry] of Object.entries(parsed as Record<string, unknown>)) {
    // A secret: whether it is set decides whether the stack creates a Key Vault; its value is
    // neither shown by pulumi config --json nor read here.
    if (key === "auditbridge:syslogClientKeyPem") {
      out.syslogClientKeySet = "true";
      continue;
    }
    const field = STACK_KEYS[key];
    if (!field || !entry || typeof entry !== "object") continue;
    const { value, secret } = entry as { value?: unknown; secret?: unknown };
    if (secret === true) continue;
    if (typeof value === "string" || typeof value === "boolean" || typeof value === "number") {
      out[field] = String(value);
    }
  }
  return out;
}

/** Reads a stack's configuration with the Pulumi CLI (secret values are left out). */
export function pulumiConfigReader(pulumiCommand = "pulumi"): StackConfigReader {
  return {
    config: async (stack) =>
      stackSettingsFromJson(
        await runPulumiCli(["config", "--json", "--stack", stack], {
          pulumiCommand,
          insteadOfStack:
            "--tenant-id, --subscription-id, --resource-group, --location and --name-prefix",
          what: "pulumi config",
          makeError: (message) => new PreflightInputError(message),
        }),
      ),
  };
}

const mergedSchema = z.object({
  tenantId: guidFlag("--tenant-id", "the Microsoft 365 tenant id"),
  azureTenantId: guidFlag("--azure-tenant-id", "the Azure subscription's tenant id").optional(),
  subscriptionId: guidFlag("--subscription-id", "the Azure subscription id"),
  resourceGroup: z
    .string()
    .regex(
      /^[-\w.()]{1,89}[-\w()]$|^[-\w()]$/u,
      "--resource-group: must be 1-90 letters, digits, '-', '_', '.', '(' or ')' and not end in '.'",
    ),
  location: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,39}$/, "--location: must be an Azure location name like westeurope"),
  namePrefix: z.string().superRefine((value, ctx) => {
    const problem = namePrefixProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: `--name-prefix: ${problem}` });
  }),
  workspaceResourceId: z
    .string()
    .superRefine((value, ctx) => {
      const problem = resourceIdProblem(value, "Microsoft.OperationalInsights", "workspaces");
      if (problem) ctx.addIssue({ code: "custom", message: `--workspace-resource-id: ${problem}` });
    })
    .optional(),
  registryResourceId: z
    .string()
    .superRefine((value, ctx) => {
      const problem = resourceIdProblem(value, "Microsoft.ContainerRegistry", "registries");
      if (problem) ctx.addIssue({ code: "custom", message: `--registry-resource-id: ${problem}` });
    })
    .optional(),
  cloud: z
    .enum(CLOUD_NAMES, { message: `--cloud: must be one of ${CLOUD_NAMES.join(", ")}` })
    .optional(),
  authorityHost: httpsUrlFlag("--authority-host").optional(),
  armEndpoint: httpsUrlFlag("--arm-endpoint").optional(),
  graphEndpoint: httpsUrlFlag("--graph-endpoint").optional(),
  keyVaultRecoverSoftDeleted: z
    .enum(["true", "false"], {
      message: "keyVaultRecoverSoftDeleted (stack config): must be true or false",
    })
    .optional(),
  timeout: z
    .string()
    .regex(/^\d+$/, "--timeout: must be a whole number of seconds between 1 and 3600")
    .transform(Number)
    .refine(
      (n) => n >= 1 && n <= 3600,
      "--timeout: must be a whole number of seconds between 1 and 3600",
    )
    .optional(),
});

/** Options for {@link resolvePreflightConfig}. */
export interface ResolveOptions {
  /** Reads `--stack` config; defaults to the `pulumi` CLI on PATH. */
  stackReader?: StackConfigReader;
}

/**
 * Turns argv + environment (+ stack config when `--stack` is given) into a validated config.
 * Returns "help" for `--help`. Throws {@link PreflightInputError} for bad input.
 */
export async function resolvePreflightConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: ResolveOptions = {},
): Promise<PreflightConfig | "help"> {
  const flags = parseFlags(argv);
  if (flags === "help") return "help";
  const stack = nonEmpty(flags.stack);
  const settings: StackSettings = stack
    ? await (options.stackReader ?? pulumiConfigReader()).config(stack)
    : {};
  const pick = (flag: string | undefined, fromStack: string | undefined, envName?: string) =>
    nonEmpty(flag) ?? nonEmpty(fromStack) ?? (envName ? nonEmpty(env[envName]) : undefined);

  const merged = {
    tenantId: pick(flags.tenantId, settings.m365TenantId, "AZURE_TENANT_ID"),
    azureTenantId: pick(flags.azureTenantId, settings.azureTenantId),
    subscriptionId: pick(flags.subscriptionId, settings.subscriptionId, "AZURE_SUBSCRIPTION_ID"),
    resourceGroup: pick(flags.resourceGroup, settings.resourceGroupName),
    location: pick(flags.location, settings.location)?.toLowerCase(),
    namePrefix: pick(
      flags.namePrefix,
      nonEmpty(settings.namePrefix) ?? (stack ? namePrefixFromStack(stack) : undefined),
    ),
    workspaceResourceId: pick(flags.workspaceResourceId, settings.workspaceResourceId),
    registryResourceId: pick(flags.registryResourceId, settings.collectorRegistryResourceId),
    cloud: pick(flags.cloud, settings.cloud, "O365_CLOUD"),
    authorityHost: pick(flags.authorityHost, undefined, "AZURE_AUTHORITY_HOST"),
    armEndpoint: pick(flags.armEndpoint, undefined, "AZURE_RESOURCE_MANAGER_ENDPOINT"),
    graphEndpoint: pick(flags.graphEndpoint, undefined, "MICROSOFT_GRAPH_ENDPOINT"),
    keyVaultRecoverSoftDeleted: nonEmpty(settings.keyVaultRecoverSoftDeleted),
    timeout: nonEmpty(flags.timeout),
  };
  const required: [keyof typeof merged, string][] = [
    ["tenantId", "missing --tenant-id: pass it, set AZURE_TENANT_ID, or use --stack <name>"],
    [
      "subscriptionId",
      "missing --subscription-id: pass it, set AZURE_SUBSCRIPTION_ID, or use --stack <name> with azure-native:subscriptionId set",
    ],
    ["resourceGroup", "missing --resource-group: pass it or use --stack <name>"],
    ["location", "missing --location: pass it or use --stack <name>"],
    ["namePrefix", "missing --name-prefix: pass it or use --stack <name>"],
  ];
  for (const [key, message] of required) {
    if (!merged[key]) throw new PreflightInputError(message);
  }
  const parsed = mergedSchema.safeParse(merged);
  if (!parsed.success) {
    throw new PreflightInputError(parsed.error.issues[0]?.message ?? "invalid input");
  }
  const v = parsed.data;
  const shape = resolveShape(flags, settings, stack);
  const cloud: CloudName = v.cloud ?? "commercial";
  const profile = CLOUDS[cloud];
  const authorityHost = (v.authorityHost ?? profile.authorityHost).replace(/\/+$/, "");
  const armEndpoint = v.armEndpoint ?? ARM_ENDPOINTS[cloud];
  const suffix = uniqueSuffix(v.tenantId, v.resourceGroup, v.namePrefix);
  return Object.freeze({
    stack: stack ?? null,
    tenantId: v.tenantId.toLowerCase(),
    azureTenantId: (v.azureTenantId ?? v.tenantId).toLowerCase(),
    subscriptionId: v.subscriptionId.toLowerCase(),
    resourceGroup: v.resourceGroup,
    location: v.location,
    namePrefix: v.namePrefix,
    keyVaultName: resourceNames(v.namePrefix, suffix).keyVault,
    keyVaultRecoverSoftDeleted: v.keyVaultRecoverSoftDeleted === "true",
    ...shape,
    workspaceResourceId: v.workspaceResourceId ?? null,
    registryResourceId: v.registryResourceId ?? null,
    cloud,
    authorityHost,
    disableInstanceDiscovery: !isMicrosoftAuthorityHost(authorityHost),
    armEndpoint,
    armScope: `${armEndpoint}/.default`,
    graphEndpoint: v.graphEndpoint ?? profile.graphEndpoint,
    graphAudience: profile.graphEndpoint,
    json: flags.json === true,
    timeoutMs: (v.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
  });
}

/** One input as given: its value and where it came from (a flag, or the stack's config). */
interface Given {
  value: string;
  /** `--sinks` or `auditbridge:sinks`. */
  name: string;
  flag: string;
  key: string;
  fromStack: boolean;
}

/** The deployment's shape: collector, its mode, sinks and the table plan, checked together. */
function resolveShape(
  flags: RawFlags,
  settings: StackSettings,
  stack: string | undefined,
): Omit<DeploymentShape, "workspaceResourceId"> & { tablePlan: TablePlan } {
  const given = (
    flagValue: string | undefined,
    stackValue: string | undefined,
    flag: string,
    key: string,
  ): Given | undefined => {
    const fromFlag = nonEmpty(flagValue);
    if (fromFlag !== undefined) {
      return { value: fromFlag, name: flag, flag, key, fromStack: false };
    }
    const fromStack = nonEmpty(stackValue);
    if (fromStack === undefined) return undefined;
    return { value: fromStack, name: `auditbridge:${key}`, flag, key, fromStack: true };
  };
  const stackFlag = stack ? ` --stack ${stack}` : "";
  const setTo = (g: Given, example: string) =>
    g.fromStack
      ? `set it with pulumi config set auditbridge:${g.key} ${example}${stackFlag}`
      : `pass ${g.flag} ${example}`;
  const invalid = (g: Given, what: string, example: string): never => {
    throw new PreflightInputError(
      `${g.name}${g.fromStack ? " (stack config)" : ""}: ${what}: ${setTo(g, example)}`,
    );
  };

  /** `g`'s value when it is one of `choices`, `fallback` when not given, else a one-line error. */
  const oneOf = <T extends string>(
    g: Given | undefined,
    choices: readonly T[],
    fallback: T,
    rule: string,
    example: string,
  ): T => {
    if (g === undefined) return fallback;
    if ((choices as readonly string[]).includes(g.value)) return g.value as T;
    return invalid(g, `${rule} (got ${g.value})`, example);
  };

  const collectorGiven = given(flags.collector, settings.collector, "--collector", "collector");
  const collector: PreflightCollectorKind = oneOf(
    collectorGiven,
    PREFLIGHT_COLLECTOR_KINDS,
    "bundled",
    "must be bundled (AuditBridge's collector in Azure Container Apps) or none (bring your own SIEM)",
    "none",
  );

  const modeGiven = given(
    flags.collectorMode,
    settings.collectorMode,
    "--collector-mode",
    "collectorMode",
  );
  const mode: PreflightCollectorMode = oneOf(
    modeGiven,
    PREFLIGHT_COLLECTOR_MODES,
    "always-on",
    `must be ${PREFLIGHT_COLLECTOR_MODES.join(" or ")}`,
    "scheduled",
  );

  const sinksGiven = given(flags.sinks, settings.sinks, "--sinks", "sinks");
  let sinks: DeployedSinkKind[] = ["logs-ingestion"];
  if (sinksGiven !== undefined) {
    const parsed = parseDeployedSinks(sinksGiven.value);
    sinks = parsed.ok ? parsed.value : invalid(sinksGiven, parsed.problem, "logs-ingestion,syslog");
  }

  const credentialGiven = given(
    flags.credentialMode,
    settings.credentialMode,
    "--credential-mode",
    "credentialMode",
  );
  const credentialMode: AppCredentialKind = oneOf(
    credentialGiven,
    APP_CREDENTIAL_KINDS,
    "secret",
    `must be ${APP_CREDENTIAL_KINDS.join(", ")}`,
    "secret",
  );

  // Sentinel is read from the stack only, like tablePlan (its content needs the stack's workspace).
  const sentinelGiven = given(undefined, settings.sentinel, "", "sentinel");
  const sentinelOn =
    oneOf(sentinelGiven, ["true", "false"], "false", "must be true or false", "true") === "true";
  const onboarding = oneOf(
    given(undefined, settings.sentinelOnboarding, "", "sentinelOnboarding"),
    ["create", "existing"],
    "create",
    "must be create (the stack onboards the workspace) or existing",
    "existing",
  );
  const sentinel: PreflightSentinel = sentinelOn ? onboarding : "off";

  const planGiven = given(undefined, settings.tablePlan, "", "tablePlan");
  let tablePlan: TablePlan = DEFAULT_TABLE_PLAN;
  if (planGiven !== undefined) {
    tablePlan =
      TABLE_PLANS.find((plan) => plan.toLowerCase() === planGiven.value.toLowerCase()) ??
      invalid(planGiven, `must be ${TABLE_PLANS.join(" or ")} (got ${planGiven.value})`, "Basic");
  }

  // A setting for a part the stack does not deploy is refused, as the stack's own config check
  // refuses it (stacks/config.ts): it would do nothing and hide a mistake.
  const drop = (g: Given, otherwise: string) =>
    g.fromStack
      ? `remove it with pulumi config rm auditbridge:${g.key}${stackFlag}`
      : `drop ${g.flag}, or ${otherwise}`;
  if (collector === "none") {
    const collectorName = collectorGiven?.name ?? "--collector";
    const bundledOnly: (Given | undefined)[] = [
      modeGiven?.value === "always-on" ? undefined : modeGiven,
      sinks.length === 1 && sinks[0] === "logs-ingestion" ? undefined : sinksGiven,
      given(
        flags.workspaceResourceId,
        settings.workspaceResourceId,
        "--workspace-resource-id",
        "workspaceResourceId",
      ),
      given(
        flags.registryResourceId,
        settings.collectorRegistryResourceId,
        "--registry-resource-id",
        "collectorRegistryResourceId",
      ),
      tablePlan === DEFAULT_TABLE_PLAN ? undefined : planGiven,
      sentinel === "off" ? undefined : sentinelGiven,
    ];
    const extra = bundledOnly.find((g): g is Given => g !== undefined);
    if (extra) {
      throw new PreflightInputError(
        `${extra.name} configures the bundled collector but ${collectorName} is none: ${drop(extra, "pass --collector bundled")}`,
      );
    }
    if (credentialMode === "federated" && credentialGiven) {
      throw new PreflightInputError(
        `${credentialGiven.name} federated needs the bundled collector's managed identity but ${collectorName} is none: ${setTo(credentialGiven, "secret")} (or certificate)`,
      );
    }
    // The stored credential (client secret or certificate) always has a vault.
    return {
      collector,
      collectorMode: null,
      sinks: [],
      tablePlan,
      keyVault: true,
      sentinel: "off",
    };
  }
  if (!sinks.includes("logs-ingestion") && planGiven && tablePlan !== DEFAULT_TABLE_PLAN) {
    throw new PreflightInputError(
      `${planGiven.name} applies to the audit table, which only the logs-ingestion sink creates: remove it with pulumi config rm auditbridge:tablePlan${stackFlag}, or add logs-ingestion to ${sinksGiven?.name ?? "--sinks"}`,
    );
  }
  if (sentinel !== "off" && sentinelGiven) {
    if (!sinks.includes("logs-ingestion")) {
      throw new PreflightInputError(
        `${sentinelGiven.name} needs the audit workspace, which only the logs-ingestion sink creates: remove it with pulumi config rm auditbridge:sentinel${stackFlag}, or add logs-ingestion to ${sinksGiven?.name ?? "--sinks"}`,
      );
    }
    if (tablePlan !== "Analytics") {
      throw new PreflightInputError(
        `${sentinelGiven.name} needs auditbridge:tablePlan Analytics (a Basic table cannot feed Sentinel analytics rules, hunting queries or functions): set it with pulumi config set auditbridge:tablePlan Analytics${stackFlag}, or pulumi config set auditbridge:sentinel false${stackFlag}`,
      );
    }
  }
  // The same rule as the stack (components/collectorCredential.ts, collectorSinks.ts): a vault
  // for a stored credential, the HEC token or syslog's client key. Without --stack preflight
  // cannot know whether syslog uses a client key, so it assumes one.
  const syslogClientKey = stack === undefined ? true : settings.syslogClientKeySet === "true";
  const keyVault =
    credentialMode !== "federated" ||
    sinks.includes("splunk-hec") ||
    (sinks.includes("syslog") && syslogClientKey);
  return { collector, collectorMode: mode, sinks, tablePlan, keyVault, sentinel };
}

/** The parts of a resource id the permissions API takes (listForResource). */
export function resourceIdParts(id: string): {
  subscriptionId: string;
  resourceGroup: string;
  provider: string;
  resourceType: string;
  name: string;
} {
  const parsed = parseResourceId(id);
  if (!parsed) throw new PreflightInputError(`not a resource id: ${id}`);
  return {
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroupName,
    provider: parsed.provider,
    resourceType: parsed.resourceType,
    name: parsed.name,
  };
}
