/**
 * docs/components.md: the `auditbridge` package for other Pulumi programs. The arguments table of
 * each component is read from its `…Args` interface (property, type, required, JSDoc) with the
 * TypeScript compiler, so the page follows the code; the provider story and the import are text.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { markdownTable } from "./lib/markdown";

export const PAGE_PATH = "docs/components.md";

const REPO = path.resolve(__dirname, "..", "..");

/** The components the package exports, with the file and interface of their arguments. */
export const COMPONENTS = [
  {
    name: "TenantAuditPipeline",
    file: "components/tenantAuditPipeline.ts",
    args: "TenantAuditPipelineArgs",
    type: "auditbridge:pipeline:TenantAuditPipeline",
    summary:
      "Everything one Microsoft 365 tenant needs: the three components below, wired together, with names derived from `namePrefix`.",
  },
  {
    name: "AuditReaderApp",
    file: "components/auditReaderApp.ts",
    args: "AuditReaderAppArgs",
    type: "auditbridge:entra:AuditReaderApp",
    summary:
      "The Entra ID app that reads the tenant's audit log: app registration, service principal, admin consent for the Office 365 Management APIs roles, and one credential.",
  },
  {
    name: "LogAnalyticsDestination",
    file: "components/logAnalyticsDestination.ts",
    args: "LogAnalyticsDestinationArgs",
    type: "auditbridge:monitor:LogAnalyticsDestination",
    summary:
      "Where the rows land: a new or existing workspace, the custom table, a data collection endpoint and rule, the publisher role on the rule, and the Sentinel content.",
  },
  {
    name: "CollectorService",
    file: "components/collectorService.ts",
    args: "CollectorServiceArgs",
    type: "auditbridge:collector:CollectorService",
    summary:
      "The collector in Azure Container Apps: user-assigned identity, Key Vault for the credential, checkpoint storage, environment and app.",
  },
  {
    name: "SentinelContent",
    file: "components/sentinelContent.ts",
    args: "SentinelContentArgs",
    type: "auditbridge:sentinel:SentinelContent",
    summary:
      "The OfficeActivity-shaped function over the table and, when enabled, Sentinel onboarding, analytics rules, hunting queries and the workbook.",
  },
] as const;

/** One property of an `…Args` interface. */
export interface ArgRow {
  name: string;
  type: string;
  required: boolean;
  doc: string;
}

/** The properties of interface `name` in `file`, in declaration order. */
export function argsOf(file: string, name: string): ArgRow[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(path.join(REPO, file), "utf8"),
    ts.ScriptTarget.ES2022,
    true,
  );
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  if (!declaration) throw new Error(`${file} declares no interface ${name}`);
  return declaration.members.filter(ts.isPropertySignature).map((member) => {
    const doc = ts
      .getJSDocCommentsAndTags(member)
      .filter(ts.isJSDoc)
      .map((jsDoc) => ts.getTextOfJSDocComment(jsDoc.comment) ?? "")
      .join(" ");
    return {
      name: member.name.getText(source),
      type: (member.type?.getText(source) ?? "unknown").replace(/\s+/g, " ").replace(/^\| /, ""),
      required: member.questionToken === undefined,
      doc: doc
        .replace(/\{@link\s+([^}\s]+)\s*\}/g, "`$1`")
        .replace(/\s+/g, " ")
        .trim(),
    };
  });
}

/** Text as a Markdown code span, with a longer fence when it holds a backtick. */
function code(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** The page's whole text, ending in one newline. */
export function render(): string {
  const sections = COMPONENTS.flatMap((component) => [
    `## ${component.name}`,
    "",
    `${component.summary} Type token \`${component.type}\`; arguments \`${component.args}\`.`,
    "",
    ...markdownTable(
      ["argument", "type", "required", "meaning"],
      argsOf(component.file, component.args).map((arg) => [
        `\`${arg.name}\``,
        code(arg.type),
        arg.required ? "yes" : "no",
        arg.doc,
      ]),
    ),
    "",
  ]);
  const lines = [
    "<!-- Generated from the components' Args interfaces by docs/gen/components.ts. Do not edit: run `npm run docs`. -->",
    "",
    "# AuditBridge components in your own Pulumi program",
    "",
    "The `auditbridge` npm package holds the Pulumi components this repository's stack program",
    "is built from, compiled to JavaScript with type declarations. Add them to a program of your",
    "own, next to your naming rules, tags, shared workspace and providers:",
    "",
    "```sh",
    "npm install auditbridge @pulumi/pulumi @pulumi/azuread @pulumi/azure-native @pulumiverse/time",
    "```",
    "",
    "```ts",
    'import { TenantAuditPipeline } from "auditbridge";',
    "```",
    "",
    "The four Pulumi packages are peer dependencies: your program's copies are the ones the",
    "components use (`@azure/identity` is an optional fifth, needed only with `enableAuditLogging`,",
    "which turns the tenant's audit log on with the deployer's credential). Importing the package creates no resource and reads no config; only",
    "constructing a component does. Every component takes `(name, args, opts)` like any Pulumi",
    "component resource, checks its arguments before it registers anything (one error naming the",
    "argument), and parents everything it creates to itself. The pure validators it uses",
    "(`namePrefixProblem`, `tagsProblem`, `resourceIdProblem`, …) are exported too, for checking",
    "your own config first. [examples/](../examples/) holds two complete programs.",
    "",
    "## Providers",
    "",
    "Pass your providers the usual way, with the `provider` or `providers` resource option",
    "(https://www.pulumi.com/docs/iac/concepts/options/providers/); children inherit them. A",
    "component creates a provider only where none was given:",
    "",
    ...markdownTable(
      ["provider", "how to give it", "when not given"],
      [
        [
          "azuread, Microsoft 365 tenant",
          "`providers: [m365]` (or `provider: m365` on `AuditReaderApp`)",
          "`AuditReaderApp` creates one for `m365TenantId`",
        ],
        [
          "azuread, the app's home tenant",
          "the `appTenantProvider` argument (`providers` holds one provider per package)",
          "the M365 tenant's provider; a new one when the home tenant differs",
        ],
        [
          "azure-native, deployment subscription",
          "`providers: [azure]`",
          "the program's default azure-native provider",
        ],
        [
          "azure-native, an existing workspace's subscription",
          '`workspace: { kind: "existing", resourceId, provider }`',
          "the deployment provider when `deploymentSubscriptionId` / `azureSubscriptionId` is the workspace's subscription, otherwise a new one for it",
        ],
        ["time (waits)", "`providers: [time]`", "the program's default time provider"],
      ],
    ),
    "",
    "## Tags and names",
    "",
    "`tags` (on `TenantAuditPipeline`, `LogAnalyticsDestination`, `CollectorService`,",
    "`SentinelContent`) go to every Azure resource that takes tags: workspace, data collection",
    "endpoint and rule, managed identity, Key Vault and its secret, storage account, Container",
    "Apps environment and app (or job), Sentinel workbook. Role assignments, the table, the blob container",
    "and Sentinel rules take none. The names come from `namePrefix`; `naming(kind, defaultName)`",
    "on `TenantAuditPipeline` returns the name to use for each kind (`workspace`,",
    "`dataCollectionEndpoint`, `dataCollectionRule`, `identity`, `keyVault`, `storageAccount`,",
    "`checkpointContainer`, `managedEnvironment`, `containerApp`, `collectorJob`). Key Vault and",
    "storage account names are globally unique: keep the default's suffix in those.",
    "",
    ...sections,
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}
