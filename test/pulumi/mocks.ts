/**
 * Pulumi mocks for AuditBridge's resources: each resource gets the computed outputs Azure or
 * Entra ID would return (ids in the real shapes, client ids, principal ids, endpoints), and
 * every registration and invoke is recorded so tests can assert what was sent and what was not.
 * Values are derived from resource names, so every run produces the same ones.
 */
import * as pulumi from "@pulumi/pulumi";
import { uuidV5 } from "../../components/naming";

/** Values the mocks hand out, for assertions. */
export const MOCK = {
  subscriptionId: "00000000-0000-0000-0000-0000000000aa",
  /** Tenant of the Azure subscription (what a managed identity reports). */
  azureTenantId: "99999999-8888-7777-6666-555555555555",
  /** The identity running `pulumi up` (what getClientConfig reports). */
  deployer: {
    clientId: "d0d0d0d0-0000-0000-0000-00000000c1e0",
    objectId: "d0d0d0d0-0000-0000-0000-0000000000b1",
  },
  existingWorkspaceCustomerId: "abababab-abab-abab-abab-abababababab",
  existingWorkspaceLocation: "northeurope",
  /** Retention (days) an existing workspace reports. */
  existingWorkspaceRetentionDays: 180,
  managementApiObjectId: "0a0a0a0a-0000-0000-0000-0000000000f1",
  /** Role ids the Management APIs service principal reports, by name (as in every tenant). */
  managementRoleIds: {
    "ActivityFeed.Read": "594c1fb6-4f81-4475-ae41-0c394909246c",
    "ActivityFeed.ReadDlp": "4807a72c-ad38-4250-94c9-4eabfe26cd55",
    "ServiceHealth.Read": "e2cea78f-e743-4d8f-a16a-75b629a038ae",
  } as Record<string, string>,
  /** The secret value a mocked ApplicationPassword returns. */
  passwordValue: (resourceName: string): string => `mock-password-value-${resourceName}`,
} as const;

const O365_MANAGEMENT_APP_ID = "c5393580-f805-4401-95e8-94b7a6ef2fc2";

/**
 * Resource options as they reach the engine (the RegisterResource request), with URNs reduced to
 * resource names. `dependsOn` is every direct dependency the engine orders by: explicit
 * `dependsOn` plus the resources whose outputs feed an input.
 */
export interface RecordedOptions {
  dependsOn: string[];
  /** Name of the `deletedWith` resource, or undefined. */
  deletedWith?: string;
  retainOnDelete?: boolean;
  protect?: boolean;
  ignoreChanges: string[];
  customTimeouts?: { create: string; update: string; delete: string };
  /**
   * Aliases as sent: a URN, or a spec's name / type / parent URN (unset parts are the resource's
   * own). azure-native adds one per earlier type token of a resource (with `type` set).
   */
  aliases: { urn?: string; name?: string; type?: string; parentUrn?: string }[];
}

/** One recorded resource registration. */
export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Provider reference (`urn::id`) when one was given explicitly. */
  provider?: string;
  id: string;
  state: Record<string, unknown>;
  options: RecordedOptions;
}

/** One recorded invoke. */
export interface RecordedInvoke {
  token: string;
  inputs: Record<string, unknown>;
  /** Provider reference when the invoke went through an explicit provider. */
  provider?: string;
}

/** Everything the mocks saw. */
export class Recorder {
  readonly resources: RecordedResource[] = [];
  readonly invokes: RecordedInvoke[] = [];

  /** Resources of a type token, optionally only those whose name starts with `prefix`. */
  ofType(type: string, prefix = ""): RecordedResource[] {
    return this.resources.filter((r) => r.type === type && r.name.startsWith(prefix));
  }

  /** The single resource of a type (under a name prefix); throws when there are 0 or several. */
  one(type: string, prefix = ""): RecordedResource {
    const found = this.ofType(type, prefix);
    if (found.length !== 1) {
      throw new Error(`expected exactly one ${type} named ${prefix}*, found ${found.length}`);
    }
    return found[0]!;
  }

  /** Invokes of a function token. */
  invokesOf(token: string): RecordedInvoke[] {
    return this.invokes.filter((i) => i.token === token);
  }

  /**
   * The provider resource a recorded resource (or invoke) was registered with. A provider
   * reference is `urn:pulumi:<stack>::<project>::<type chain>::<name>::<id>`.
   */
  providerOf(resource: { provider?: string }): RecordedResource | undefined {
    const providerName = resource.provider?.split("::")[3];
    return this.resources.find(
      (r) => r.type.startsWith("pulumi:providers:") && r.name === providerName,
    );
  }
}

const ARM: Readonly<Record<string, (inputs: Record<string, unknown>) => string>> = {
  "azure-native:operationalinsights:Workspace": (i) =>
    `Microsoft.OperationalInsights/workspaces/${i.workspaceName}`,
  "azure-native:operationalinsights:Table": (i) =>
    `Microsoft.OperationalInsights/workspaces/${i.workspaceName}/tables/${i.tableName}`,
  "azure-native:monitor:DataCollectionEndpoint": (i) =>
    `Microsoft.Insights/dataCollectionEndpoints/${i.dataCollectionEndpointName}`,
  "azure-native:monitor:DataCollectionRule": (i) =>
    `Microsoft.Insights/dataCollectionRules/${i.dataCollectionRuleName}`,
  "azure-native:managedidentity:UserAssignedIdentity": (i) =>
    `Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}`,
  "azure-native:keyvault:Vault": (i) => `Microsoft.KeyVault/vaults/${i.vaultName}`,
  "azure-native:keyvault:Secret": (i) =>
    `Microsoft.KeyVault/vaults/${i.vaultName}/secrets/${i.secretName}`,
  "azure-native:storage:StorageAccount": (i) =>
    `Microsoft.Storage/storageAccounts/${i.accountName}`,
  "azure-native:storage:BlobContainer": (i) =>
    `Microsoft.Storage/storageAccounts/${i.accountName}/blobServices/default/containers/${i.containerName}`,
  "azure-native:app:ManagedEnvironment": (i) =>
    `Microsoft.App/managedEnvironments/${i.environmentName}`,
  "azure-native:app:ContainerApp": (i) => `Microsoft.App/containerApps/${i.containerAppName}`,
  "azure-native:app:Job": (i) => `Microsoft.App/jobs/${i.jobName}`,
};

/** Last path segment of an ARM id: the resource's name. */
function armName(id: string): string {
  return id.slice(id.lastIndexOf("/") + 1);
}

function guidFor(kind: string, name: string): string {
  return uuidV5(`${kind}|${name}`, "8c0e5e0c-4f3b-4c59-9d0e-0a3b2c1d4e5f");
}

/** Last `::` segment of a URN: the resource's name. */
function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The subset of the generated RegisterResourceRequest the recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getDeletedwith(): string;
  getRetainondelete(): boolean | undefined;
  getProtect(): boolean | undefined;
  getIgnorechangesList(): string[];
  getAliasesList(): {
    getUrn(): string;
    getSpec(): { getName(): string; getType(): string; getParenturn(): string } | undefined;
  }[];
  getCustomtimeouts():
    | { getCreate(): string; getUpdate(): string; getDelete(): string }
    | undefined;
}

function optionsOf(req: RegisterRequest): RecordedOptions {
  const timeouts = req.getCustomtimeouts();
  return {
    dependsOn: req.getDependenciesList().map(urnName).sort(),
    ...(req.getDeletedwith() ? { deletedWith: urnName(req.getDeletedwith()) } : {}),
    ...(req.getRetainondelete() !== undefined ? { retainOnDelete: req.getRetainondelete() } : {}),
    ...(req.getProtect() !== undefined ? { protect: req.getProtect() } : {}),
    ignoreChanges: req.getIgnorechangesList(),
    aliases: req.getAliasesList().map((alias) => {
      const spec = alias.getSpec();
      if (!spec) return { urn: alias.getUrn() };
      return {
        ...(spec.getName() ? { name: spec.getName() } : {}),
        ...(spec.getType() ? { type: spec.getType() } : {}),
        ...(spec.getParenturn() ? { parentUrn: spec.getParenturn() } : {}),
      };
    }),
    ...(timeouts
      ? {
          customTimeouts: {
            create: timeouts.getCreate(),
            update: timeouts.getUpdate(),
            delete: timeouts.getDelete(),
          },
        }
      : {}),
  };
}

function newResource(args: pulumi.runtime.MockResourceArgs): {
  id: string;
  state: Record<string, unknown>;
} {
  const inputs = args.inputs as Record<string, unknown>;
  const { type, name } = args;
  const arm = ARM[type];
  if (arm) {
    const id = `/subscriptions/${MOCK.subscriptionId}/resourceGroups/${inputs.resourceGroupName}/providers/${arm(inputs)}`;
    const state: Record<string, unknown> = { ...inputs, name: armName(id) };
    switch (type) {
      case "azure-native:operationalinsights:Workspace":
        state.customerId = guidFor("workspace", name);
        break;
      case "azure-native:monitor:DataCollectionEndpoint":
        state.logsIngestion = {
          endpoint: `https://${inputs.dataCollectionEndpointName}-x1y2.${inputs.location}-1.ingest.monitor.azure.com`,
        };
        state.immutableId = `dce-${guidFor("dce", name).replace(/-/g, "")}`;
        break;
      case "azure-native:monitor:DataCollectionRule":
        state.immutableId = `dcr-${guidFor("dcr", name).replace(/-/g, "")}`;
        break;
      case "azure-native:managedidentity:UserAssignedIdentity":
        state.clientId = guidFor("identity-client", name);
        state.principalId = guidFor("identity-principal", name);
        state.tenantId = MOCK.azureTenantId;
        break;
      case "azure-native:keyvault:Vault":
        state.properties = {
          ...(inputs.properties as object),
          vaultUri: `https://${inputs.vaultName}.vault.azure.net/`,
        };
        break;
      case "azure-native:keyvault:Secret": {
        // ARM never returns a secret's value; neither do the mocks.
        const { value: _value, ...rest } = plain(inputs.properties) as Record<string, unknown>;
        state.properties = {
          ...rest,
          secretUri: `https://${inputs.vaultName}.vault.azure.net/secrets/${inputs.secretName}`,
          secretUriWithVersion: `https://${inputs.vaultName}.vault.azure.net/secrets/${inputs.secretName}/0123456789abcdef`,
        };
        break;
      }
      case "azure-native:storage:StorageAccount":
        state.primaryEndpoints = { blob: `https://${inputs.accountName}.blob.core.windows.net/` };
        break;
    }
    return { id, state };
  }
  switch (type) {
    case "azure-native:authorization:RoleAssignment":
      return {
        id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${inputs.roleAssignmentName}`,
        state: { ...inputs },
      };
    case "azuread:index/application:Application": {
      const objectId = guidFor("application", name);
      return {
        id: `/applications/${objectId}`,
        state: { ...inputs, objectId, clientId: guidFor("client", name) },
      };
    }
    case "azuread:index/servicePrincipal:ServicePrincipal": {
      const isManagementApi = inputs.clientId === O365_MANAGEMENT_APP_ID;
      const objectId = isManagementApi ? MOCK.managementApiObjectId : guidFor("sp", name);
      return {
        id: `/servicePrincipals/${objectId}`,
        state: {
          ...inputs,
          objectId,
          appRoleIds: isManagementApi ? MOCK.managementRoleIds : {},
        },
      };
    }
    case "azuread:index/applicationPassword:ApplicationPassword":
      return {
        id: `${inputs.applicationId}/password/${guidFor("password", name)}`,
        state: { ...inputs, keyId: guidFor("password", name), value: MOCK.passwordValue(name) },
      };
    default:
      return { id: `${name}-id`, state: { ...inputs } };
  }
}

function call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  const inputs = args.inputs as Record<string, unknown>;
  switch (args.token) {
    case "azure-native:authorization:getClientConfig":
      return {
        clientId: MOCK.deployer.clientId,
        objectId: MOCK.deployer.objectId,
        subscriptionId: MOCK.subscriptionId,
        tenantId: MOCK.azureTenantId,
      };
    case "azuread:index/getServicePrincipal:getServicePrincipal":
      if (inputs.clientId !== O365_MANAGEMENT_APP_ID) {
        throw new Error(`no service principal with client id ${inputs.clientId}`);
      }
      return {
        clientId: O365_MANAGEMENT_APP_ID,
        objectId: MOCK.managementApiObjectId,
        appRoleIds: MOCK.managementRoleIds,
        displayName: "Office 365 Management APIs",
      };
    case "azure-native:operationalinsights:getWorkspace":
      return {
        id: `/subscriptions/${MOCK.subscriptionId}/resourceGroups/${inputs.resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/${inputs.workspaceName}`,
        name: inputs.workspaceName,
        customerId: MOCK.existingWorkspaceCustomerId,
        location: MOCK.existingWorkspaceLocation,
        retentionInDays: MOCK.existingWorkspaceRetentionDays,
      };
    default:
      throw new Error(`unmocked invoke ${args.token}`);
  }
}

/**
 * Installs the mocks (call before importing the code under test) and returns the recorder.
 * `preview` false: every output is known, as after a real `pulumi up`.
 */
export async function installMocks(stack = "test", project = "auditbridge"): Promise<Recorder> {
  const recorder = new Recorder();
  // Options are not part of MockResourceArgs: read them from the request the mock monitor gets.
  const pendingOptions = new Map<string, RecordedOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const result = newResource(args);
        const key = `${args.type}::${args.name}`;
        const options = pendingOptions.get(key);
        if (!options) throw new Error(`no RegisterResource request seen for ${key}`);
        recorder.resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          provider: args.provider,
          id: result.id,
          state: result.state,
          options,
        });
        return result;
      },
      call: (args) => {
        recorder.invokes.push({
          token: args.token,
          inputs: args.inputs as Record<string, unknown>,
          ...(args.provider ? { provider: args.provider } : {}),
        });
        return call(args);
      },
    },
    project,
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    pendingOptions.set(`${req.getType()}::${req.getName()}`, optionsOf(req));
    return register(req, callback);
  };
  return recorder;
}

/** Resolves an Output's value (mocks leave every value known). */
export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Whether an Output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** Signature Pulumi uses to mark a secret value on the wire (`{[SECRET_SIG_KEY]: SECRET_SIG, value}`). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded input value was sent as a Pulumi secret. */
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** A recorded input value with secret markers removed (recursively). */
export function plain(value: unknown): unknown {
  if (isSecretInput(value)) return plain((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Waits until every registration the program started has reached the mocks. */
export async function settle(): Promise<void> {
  await pulumi.runtime.disconnect();
}

/** What running a stack's program under the mocks gives a test. */
export interface ProgramRun {
  recorder: Recorder;
  /** The program's exports (stack outputs). */
  program: Record<string, pulumi.Output<string>>;
  /** Every export, resolved. */
  outputs: Record<string, string>;
}

/**
 * Runs the Pulumi program `main` (a file path) of project `project` as stack `stack` under the
 * mocks, with the config the caller set (`pulumi.runtime.setAllConfig`), and waits until every
 * resource has been registered. One program per test file: Node caches the module.
 */
export async function runProgram(
  main: string,
  project: string,
  stack = "example",
): Promise<ProgramRun> {
  const recorder = await installMocks(stack, project);
  const program = (await import(main)) as Record<string, pulumi.Output<string>>;
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(program)) outputs[name] = await resolved(output);
  await settle();
  return { recorder, program, outputs };
}
