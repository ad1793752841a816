import { Secret } from "../../scripts/common/secret";
import type { StackOutputs, StackReader } from "../../scripts/common/stack";
import { type HandoffConfig, resolveHandoffConfig } from "../../scripts/handoff/inputs";

export const TENANT = "11111111-2222-3333-4444-555555555555";
export const CLIENT = "66666666-7777-8888-9999-000000000000";
export const PUBLISHER = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const SECRET_VALUE = "Q~s3cr3t-value-never-printed-unasked";

/** Outputs of a `collector: none` stack, as `pulumi stack output --json` reduces them. */
export function noneStackOutputs(overrides: Partial<StackOutputs> = {}): StackOutputs {
  return {
    hasClientSecret: false,
    tenantId: TENANT,
    clientId: CLIENT,
    publisherId: TENANT,
    cloud: "commercial",
    contentTypes:
      "Audit.AzureActiveDirectory,Audit.Exchange,Audit.SharePoint,Audit.General,DLP.All",
    collector: "none",
    credentialMode: "secret",
    keyVaultName: "kv-contoso-audit",
    keyVaultUri: "https://kv-contoso-audit.vault.azure.net/",
    clientSecretName: "audit-reader-client-secret",
    secretExpiresAt: "2027-06-01T00:00:00Z",
    workspaceResourceId: "",
    ...overrides,
  };
}

/** A stack reader that answers from memory and records which stacks were read. */
export function fakeStackReader(outputs: StackOutputs): StackReader & { read: string[] } {
  const read: string[] = [];
  return {
    read,
    async outputs(stack) {
      read.push(stack);
      return outputs;
    },
    async clientSecret() {
      return new Secret(SECRET_VALUE);
    },
  };
}

/** Resolves argv (no environment unless given) into a config; fails the test on "help". */
export async function resolve(
  argv: string[],
  options: { env?: Record<string, string | undefined>; reader?: StackReader } = {},
): Promise<HandoffConfig> {
  const config = await resolveHandoffConfig(argv, options.env ?? {}, {
    stackReader: options.reader,
  });
  if (config === "help") throw new Error("unexpected help");
  return config;
}

/** The message of the input error `promise` rejects with (fails the test otherwise). */
export async function inputError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if ((error as { code?: string }).code !== "bad-input") throw error;
    return (error as Error).message;
  }
  throw new Error("expected a bad-input error");
}

/** Flags naming the app without a stack. */
export const APP_FLAGS = ["--tenant-id", TENANT, "--client-id", CLIENT];
