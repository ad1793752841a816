/**
 * The example programs in examples/ as a consumer runs them: each copied into its own temporary
 * project with the packed package as node_modules/auditbridge (see consumer.ts), type-checked
 * and compiled with the TypeScript compiler against the package's declarations only (the
 * `exports` map's `types`, module resolution node16), then run under Pulumi mocks with its
 * config set. The assertions are on what reaches the engine: resource types, which provider
 * each one goes through, tags and names.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installMocks, MOCK, type Recorder, settle } from "../pulumi/mocks";
import { consumerProject, packedPackage, REPO, removeConsumerProjects } from "./consumer";

afterAll(removeConsumerProjects);

const M365 = "11111111-2222-3333-4444-555555555555";
const HUB_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000bb";
const HUB_WORKSPACE = `/subscriptions/${HUB_SUBSCRIPTION}/resourceGroups/rg-hub/providers/Microsoft.OperationalInsights/workspaces/log-hub`;
const IMAGE = "contoso.azurecr.io/auditbridge-collector:0.1.0";

const EXAMPLES = {
  minimal: {
    m365TenantId: M365,
    resourceGroupName: "rg-audit",
    collectorImage: IMAGE,
  },
  "existing-workspace": {
    m365TenantId: M365,
    spokeSubscriptionId: MOCK.subscriptionId,
    resourceGroupName: "rg-spoke-audit",
    workspaceResourceId: HUB_WORKSPACE,
    collectorImage: IMAGE,
  },
} as const;
type ExampleName = keyof typeof EXAMPLES;

const projects = {} as Record<ExampleName, string>;
const diagnostics: string[] = [];

/** The Pulumi project name of an example (its config namespace). */
function projectName(dir: string): string {
  const match = /^name:\s*(\S+)/m.exec(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
  if (!match) throw new Error(`${dir}/Pulumi.yaml has no name`);
  return match[1]!;
}

/** Type-checks and compiles every example with its own tsconfig.json; collects the errors. */
function compile(dir: string): void {
  const configPath = path.join(dir, "tsconfig.json");
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dir);
  const program = ts.createProgram(parsed.fileNames, { ...parsed.options, outDir: dir });
  const emitted = program.emit();
  for (const d of [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]) {
    diagnostics.push(
      `${d.file ? path.relative(dir, d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
    );
  }
  // The program must have found the package's declarations, not some other source.
  const declaration = program
    .getSourceFiles()
    .map((f) => f.fileName)
    .find((f) => f.endsWith("auditbridge/dist/components/index.d.ts"));
  if (!declaration?.startsWith(dir))
    diagnostics.push(`${dir}: auditbridge types not from the package`);
}

/** Runs a compiled example under fresh mocks with its config; returns what it registered. */
async function run(example: ExampleName): Promise<Recorder> {
  const dir = projects[example];
  const recorder = await installMocks("dev", projectName(dir));
  const consumerRequire = createRequire(path.join(dir, "index.js"));
  const runtimeConfig = consumerRequire("@pulumi/pulumi/runtime/config") as {
    setConfig(key: string, value: string): void;
  };
  for (const [key, value] of Object.entries(EXAMPLES[example])) {
    runtimeConfig.setConfig(`${projectName(dir)}:${key}`, value);
  }
  consumerRequire("./index.js");
  await settle();
  return recorder;
}

let minimal: Recorder;
let existing: Recorder;

beforeAll(async () => {
  const pack = packedPackage();
  for (const example of Object.keys(EXAMPLES) as ExampleName[]) {
    projects[example] = consumerProject(pack, example, path.join(REPO, "examples", example));
    compile(projects[example]);
  }
  minimal = await run("minimal");
  existing = await run("existing-workspace");
}, 300_000);

const providerName = (recorder: Recorder, resource: { provider?: string }) =>
  recorder.providerOf(resource)?.name;

describe("the examples as consumer programs", () => {
  it("type-check against the packed declarations alone", () => {
    expect(diagnostics).toEqual([]);
  });

  it("depend on auditbridge and its peers by name", () => {
    for (const example of Object.keys(EXAMPLES)) {
      const manifest = JSON.parse(
        readFileSync(path.join(REPO, "examples", example, "package.json"), "utf8"),
      ) as { dependencies: Record<string, string> };
      expect(Object.keys(manifest.dependencies).sort()).toEqual([
        "@pulumi/azure-native",
        "@pulumi/azuread",
        "@pulumi/pulumi",
        "@pulumiverse/time",
        "auditbridge",
      ]);
      expect(readFileSync(path.join(REPO, "examples", example, "index.ts"), "utf8")).toMatch(
        /from "auditbridge"/,
      );
    }
  });
});

describe("examples/minimal", () => {
  it("creates the whole pipeline", () => {
    const types = new Set(minimal.resources.map((r) => r.type));
    for (const type of [
      "auditbridge:pipeline:TenantAuditPipeline",
      "azuread:index/application:Application",
      "azuread:index/servicePrincipal:ServicePrincipal",
      "azuread:index/appRoleAssignment:AppRoleAssignment",
      "azuread:index/applicationPassword:ApplicationPassword",
      "azure-native:operationalinsights:Workspace",
      "azure-native:operationalinsights:Table",
      "azure-native:monitor:DataCollectionEndpoint",
      "azure-native:monitor:DataCollectionRule",
      "azure-native:keyvault:Vault",
      "azure-native:storage:StorageAccount",
      "azure-native:app:ContainerApp",
    ]) {
      expect(types, type).toContain(type);
    }
    expect(minimal.one("azure-native:operationalinsights:Workspace").inputs.workspaceName).toBe(
      "log-contoso",
    );
  });

  it("lets the component create the M365 tenant's azuread provider and nothing else", () => {
    const providers = minimal.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
    expect(providers.map((p) => [p.type, p.inputs.tenantId])).toEqual([
      ["pulumi:providers:azuread", M365],
    ]);
    const app = minimal.one("azuread:index/application:Application");
    expect(providerName(minimal, app)).toBe(providers[0]!.name);
    // Azure resources use the program's default azure-native provider.
    expect(minimal.one("azure-native:app:ContainerApp").provider).toBeFalsy();
  });

  it("tags the taggable Azure resources", () => {
    const tags = { workload: "m365-audit" };
    for (const type of [
      "azure-native:operationalinsights:Workspace",
      "azure-native:monitor:DataCollectionRule",
      "azure-native:storage:StorageAccount",
      "azure-native:app:ContainerApp",
    ]) {
      expect(minimal.one(type).inputs.tags, type).toEqual(tags);
    }
    expect(minimal.one("azure-native:operationalinsights:Table").inputs.tags).toBeUndefined();
  });
});

describe("examples/existing-workspace", () => {
  it("creates no provider beyond the program's own three", () => {
    const providers = existing.resources
      .filter((r) => r.type.startsWith("pulumi:providers:"))
      .map((r) => `${r.type.replace("pulumi:providers:", "")}/${r.name}`)
      .sort();
    expect(providers).toEqual(["azure-native/hub", "azure-native/spoke", "azuread/m365"]);
  });

  it("sends Entra ID resources through the program's azuread provider", () => {
    const entra = existing.resources.filter((r) => r.type.startsWith("azuread:"));
    expect(entra.length).toBeGreaterThan(3);
    for (const resource of entra) {
      expect([resource.name, providerName(existing, resource)]).toEqual([resource.name, "m365"]);
    }
  });

  it("puts the table and its function in the hub workspace through the hub provider, the rest in the spoke", () => {
    expect(existing.ofType("azure-native:operationalinsights:Workspace")).toEqual([]);
    const lookup = existing.invokesOf("azure-native:operationalinsights:getWorkspace");
    expect(lookup.map((i) => [i.inputs.workspaceName, providerName(existing, i)])).toEqual([
      ["log-hub", "hub"],
    ]);
    const inWorkspace = new Set([
      "azure-native:operationalinsights:Table",
      "azure-native:operationalinsights:SavedSearch",
    ]);
    const hub = existing.resources.filter((r) => inWorkspace.has(r.type));
    expect(new Set(hub.map((r) => r.type))).toEqual(inWorkspace);
    for (const resource of hub) {
      expect([resource.name, providerName(existing, resource)]).toEqual([resource.name, "hub"]);
    }
    const rest = existing.resources.filter(
      (r) => r.type.startsWith("azure-native:") && !inWorkspace.has(r.type),
    );
    expect(rest.length).toBeGreaterThan(8);
    for (const resource of rest) {
      expect([resource.name, providerName(existing, resource)]).toEqual([resource.name, "spoke"]);
    }
    expect(existing.one("azure-native:monitor:DataCollectionRule").inputs).toMatchObject({
      destinations: { logAnalytics: [{ workspaceResourceId: HUB_WORKSPACE }] },
    });
  });

  it("applies the program's tags and naming rule", () => {
    const tags = { costCenter: "cc-4711", owner: "platform-team" };
    expect(existing.one("azure-native:keyvault:Vault").inputs.tags).toEqual(tags);
    expect(existing.one("azure-native:monitor:DataCollectionEndpoint").inputs).toMatchObject({
      dataCollectionEndpointName: "dce-fabrikam-weu",
      tags,
    });
    expect(existing.one("azure-native:app:ContainerApp").inputs.containerAppName).toBe(
      "ca-fabrikam-collector-weu",
    );
    expect(existing.one("azure-native:storage:StorageAccount").inputs.accountName).toMatch(
      /^stfabrikam[0-9a-f]{6}$/,
    );
  });
});
