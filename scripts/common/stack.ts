/**
 * `--stack <name>`: reads a Pulumi stack's outputs through the Pulumi CLI, for every user command
 * (`pulumi stack output --json`; a secret output only on demand, with `--show-secrets`). A
 * missing CLI is a one-line input error, never a stack trace.
 * https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack_output/
 */
import { execFile } from "node:child_process";
import { CommandInputError } from "./errors";
import { Secret } from "./secret";

/** How long `pulumi stack output` may take before a command gives up on it. */
export const PULUMI_CLI_TIMEOUT_MS = 60_000;

/** Non-secret values a stack may export, already reduced to strings. */
export interface StackOutputs {
  tenantId?: string;
  clientId?: string;
  publisherId?: string;
  workspaceId?: string;
  contentTypes?: string;
  cloud?: string;
  authorityHost?: string;
  managementEndpoint?: string;
  healthzUrl?: string;
  rotationDays?: string;
  /** `bundled` or `none` (bring your own SIEM); older stacks export nothing (bundled). */
  collector?: string;
  /** `secret`, `certificate` or `federated`. */
  credentialMode?: string;
  /** The stack's Key Vault (name and URI). */
  keyVaultName?: string;
  keyVaultUri?: string;
  /** Name of the Key Vault secret holding the current client secret. */
  clientSecretName?: string;
  /** Name of the Key Vault secret holding the app credential (client secret or PEM bundle). */
  credentialSecretName?: string;
  /** When the current app credential expires (RFC 3339). */
  secretExpiresAt?: string;
  /** Log Analytics workspace resource id. */
  workspaceResourceId?: string;
  /** `always-on` or `scheduled`; empty for collector none. */
  collectorMode?: string;
  /** Comma list of the collector's sinks. */
  sinks?: string;
  /** The Container Apps Job of a scheduled collector. */
  collectorJobName?: string;
  resourceGroupName?: string;
  azureSubscriptionId?: string;
  /** The audit table's plan (Analytics or Basic). */
  tablePlan?: string;
  /** True when the stack exports a (secret) `clientSecret` output a command may fetch on demand. */
  hasClientSecret: boolean;
}

/** Reads a stack's outputs; injectable so tests can point at a fake `pulumi` on PATH. */
export interface StackReader {
  outputs(stack: string): Promise<StackOutputs>;
  clientSecret(stack: string): Promise<Secret>;
}

/**
 * Stack output names the commands understand, with the aliases AuditBridge stacks have used.
 * The first name is the documented one.
 */
const STACK_OUTPUT_KEYS: Readonly<
  Record<Exclude<keyof StackOutputs, "hasClientSecret">, string[]>
> = {
  tenantId: ["tenantId", "m365TenantId"],
  clientId: ["clientId", "appClientId", "applicationClientId"],
  publisherId: ["publisherId"],
  workspaceId: ["workspaceId", "workspaceCustomerId", "logAnalyticsWorkspaceId"],
  contentTypes: ["contentTypes"],
  cloud: ["cloud", "o365Cloud"],
  authorityHost: ["authorityHost"],
  managementEndpoint: ["managementEndpoint"],
  healthzUrl: ["healthzUrl", "collectorHealthzUrl"],
  rotationDays: ["secretRotationDays", "rotationDays"],
  collector: ["collector"],
  credentialMode: ["credentialMode"],
  keyVaultName: ["keyVaultName"],
  keyVaultUri: ["keyVaultUri"],
  clientSecretName: ["clientSecretName"],
  credentialSecretName: ["credentialSecretName"],
  secretExpiresAt: ["secretExpiresAt"],
  workspaceResourceId: ["workspaceResourceId"],
  collectorMode: ["collectorMode"],
  sinks: ["sinks"],
  collectorJobName: ["collectorJobName"],
  resourceGroupName: ["resourceGroupName"],
  azureSubscriptionId: ["azureSubscriptionId"],
  tablePlan: ["tablePlan"],
};

/**
 * Runs the Pulumi CLI and resolves to its stdout. A missing CLI becomes a one-line "install Pulumi
 * or pass <flags> instead of --stack" error; a failing one, its first line of stderr.
 */
export function runPulumiCli(
  args: readonly string[],
  options: {
    /** The flags that replace --stack, for the "not found" message. */
    insteadOfStack: string;
    /** What ran, for the failure message, e.g. "pulumi stack output". */
    what: string;
    pulumiCommand?: string;
    /** The command's own input error class (default CommandInputError). */
    makeError?: (message: string) => CommandInputError;
  },
): Promise<string> {
  const makeError = options.makeError ?? ((message: string) => new CommandInputError(message));
  return new Promise((resolve, reject) => {
    execFile(
      options.pulumiCommand ?? "pulumi",
      [...args],
      { timeout: PULUMI_CLI_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(String(stdout));
          return;
        }
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(
            makeError(
              "--stack needs the Pulumi CLI, which was not found on PATH: install Pulumi " +
                `(https://www.pulumi.com/docs/install/) or pass ${options.insteadOfStack} instead of --stack`,
            ),
          );
          return;
        }
        const firstLine =
          String(stderr)
            .split("\n")
            .map((line) => line.trim())
            .find((line) => line.length > 0) ?? error.message.split("\n")[0];
        reject(makeError(`${options.what} failed for --stack: ${firstLine}`));
      },
    );
  });
}

/** Reads a stack's outputs with the Pulumi CLI. */
export function pulumiStackReader(pulumiCommand = "pulumi"): StackReader {
  const run = (args: string[]): Promise<string> =>
    runPulumiCli(args, {
      pulumiCommand,
      insteadOfStack: "--tenant-id, --client-id and --workspace-id",
      what: "pulumi stack output",
    });
  return {
    async outputs(stack) {
      const text = await run(["stack", "output", "--json", "--stack", stack]);
      return parseStackOutputs(text, stack);
    },
    async clientSecret(stack) {
      const text = await run([
        "stack",
        "output",
        "clientSecret",
        "--json",
        "--show-secrets",
        "--stack",
        stack,
      ]);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new CommandInputError(
          `--stack ${stack}: the clientSecret output is not valid JSON; set AZURE_CLIENT_SECRET instead`,
        );
      }
      if (typeof value !== "string" || value.length === 0) {
        throw new CommandInputError(
          `--stack ${stack}: the clientSecret output is empty; set AZURE_CLIENT_SECRET instead`,
        );
      }
      return new Secret(value);
    },
  };
}

/**
 * Maps `pulumi stack output --json` text to {@link StackOutputs}. Exported for tests. Secret
 * outputs appear as "[secret]" there and are never read from this text.
 */
export function parseStackOutputs(text: string, stack: string): StackOutputs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CommandInputError(`--stack ${stack}: pulumi stack output did not return JSON`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new CommandInputError(`--stack ${stack}: pulumi stack output did not return an object`);
  }
  const record = parsed as Record<string, unknown>;
  const result: StackOutputs = { hasClientSecret: "clientSecret" in record };
  for (const [field, names] of Object.entries(STACK_OUTPUT_KEYS)) {
    for (const name of names) {
      const value = stringify(record[name]);
      if (value !== undefined) {
        (result as unknown as Record<string, string>)[field] = value;
        break;
      }
    }
  }
  return result;
}

function stringify(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "[secret]") return undefined;
  if (Array.isArray(value)) return value.map(String).join(",");
  if (typeof value === "string" || typeof value === "number") return String(value);
  return undefined;
}
