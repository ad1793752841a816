import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "../../scripts/common/secret";
import { parseStackOutputs, pulumiStackReader, type StackReader } from "../../scripts/common/stack";
import {
  isVerifyInputError,
  resolveVerifyConfig,
  type VerifyConfig,
} from "../../scripts/verify/inputs";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";
const WORKSPACE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const SECRET = "s3cr3t-value-never-printed";

async function resolve(
  argv: string[],
  env: Record<string, string | undefined> = { AZURE_CLIENT_SECRET: SECRET },
  stackReader?: StackReader,
): Promise<VerifyConfig> {
  const config = await resolveVerifyConfig(argv, env, { stackReader });
  if (config === "help") throw new Error("unexpected help");
  return config;
}

async function inputError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(isVerifyInputError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error("expected a VerifyInputError");
}

describe("verify inputs from flags and environment", () => {
  it("builds a commercial-cloud config from flags with the documented defaults", async () => {
    const config = await resolve(["--tenant-id", TENANT, "--client-id", CLIENT]);
    expect(config.tenantId).toBe(TENANT);
    expect(config.clientId).toBe(CLIENT);
    expect(config.publisherId).toBe(TENANT);
    expect(config.cloud).toBe("commercial");
    expect(config.authorityHost).toBe("https://login.microsoftonline.com");
    expect(config.disableInstanceDiscovery).toBe(false);
    expect(config.managementEndpoint).toBe("https://manage.office.com");
    expect(config.graphEndpoint).toBe("https://graph.microsoft.com");
    expect(config.logAnalyticsEndpoint).toBe("https://api.loganalytics.io");
    expect(config.contentTypes).toHaveLength(5);
    expect(config.sinceHours).toBe(24);
    expect(config.expiryWarnDays).toBe(30);
    expect(config.rotationDays).toBeNull();
    expect(config.timeoutInMs).toBe(30_000);
    expect(config.workspaceId).toBeNull();
    expect(config.tablePlan).toBe("Analytics");
    expect(config.callerCredential).toEqual({ kind: "default" });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("defaults to an always-on collector delivering to the workspace, and reads the mode flags", async () => {
    const base = ["--tenant-id", TENANT, "--client-id", CLIENT];
    const defaults = await resolve(base);
    expect(defaults.collector).toEqual({ kind: "always-on", sinks: ["logs-ingestion"] });
    expect(defaults.armEndpoint).toBe("https://management.azure.com");
    expect(defaults.armScope).toBe("https://management.azure.com/.default");
    const gov = await resolve([...base, "--cloud", "dod"]);
    expect(gov.armEndpoint).toBe("https://management.usgovcloudapi.net");
    expect(
      (await resolve([...base, "--collector-mode", "none", "--sinks", "syslog"])).collector,
    ).toEqual({
      kind: "none",
    });
    const scheduled = await resolve(
      [
        ...base,
        "--collector-mode",
        "scheduled",
        "--sinks",
        "Syslog, splunk-hec,syslog",
        "--job-name",
        "caj-x-collector",
        "--resource-group",
        "rg-x",
      ],
      {
        AZURE_CLIENT_SECRET: SECRET,
        AZURE_SUBSCRIPTION_ID: WORKSPACE,
        AZURE_RESOURCE_MANAGER_ENDPOINT: "https://arm.example.test/",
      },
    );
    expect(scheduled.collector).toEqual({
      kind: "scheduled",
      sinks: ["syslog", "splunk-hec"],
      job: { subscriptionId: WORKSPACE, resourceGroup: "rg-x", name: "caj-x-collector" },
    });
    expect(scheduled.armEndpoint).toBe("https://arm.example.test");
  });

  it.each([
    [["--collector-mode", "cron"], /^--collector-mode/],
    [["--job-name", "Bad_Name"], /^--job-name: must be a Container Apps Job name/],
    [["--subscription-id", "prod"], /^--subscription-id/],
    [["--arm-endpoint", "http://arm"], /^--arm-endpoint/],
  ])("refuses %j in one line", async (flags, message) => {
    expect(
      await inputError(resolve(["--tenant-id", TENANT, "--client-id", CLIENT, ...flags])),
    ).toMatch(message);
  });

  it("uses the cloud profile's hosts and audiences for gcchigh", async () => {
    const config = await resolve([
      "--tenant-id",
      TENANT,
      "--client-id",
      CLIENT,
      "--cloud",
      "gcchigh",
    ]);
    expect(config.authorityHost).toBe("https://login.microsoftonline.us");
    expect(config.managementAudience).toBe("https://manage.office365.us");
    expect(config.graphEndpoint).toBe("https://graph.microsoft.us");
    expect(config.logAnalyticsAudience).toBe("https://api.loganalytics.us");
    expect(config.logAnalyticsEndpoint).toBe("https://api.loganalytics.us");
  });

  it("keeps the cloud's audiences when endpoints are overridden and uses the app as caller", async () => {
    const url = "https://127.0.0.1:8443";
    const config = await resolve([
      "--tenant-id",
      TENANT,
      "--client-id",
      CLIENT,
      "--authority-host",
      url,
      "--management-endpoint",
      url,
      "--graph-endpoint",
      `${url}/`,
      "--log-analytics-endpoint",
      `${url}/v1`,
    ]);
    expect(config.disableInstanceDiscovery).toBe(true);
    expect(config.graphEndpoint).toBe(url);
    expect(config.graphAudience).toBe("https://graph.microsoft.com");
    expect(config.managementAudience).toBe("https://manage.office.com");
    expect(config.logAnalyticsEndpoint).toBe(url);
    expect(config.callerCredential).toEqual({ kind: "app" });
  });

  it("reads the audit switch from the cloud's Exchange host unless --exchange-endpoint or EXCHANGE_ADMIN_ENDPOINT says otherwise", async () => {
    const plain = await resolve(["--tenant-id", TENANT, "--client-id", CLIENT]);
    expect(plain.exchangeEndpoint).toBe("https://outlook.office365.com");
    expect(plain.exchangeAudience).toBe("https://outlook.office365.com");
    expect(plain.readAuditSwitch).toBe(true);
    const gcchigh = await resolve([
      "--tenant-id",
      TENANT,
      "--client-id",
      CLIENT,
      "--cloud",
      "gcchigh",
    ]);
    expect(gcchigh.exchangeEndpoint).toBe("https://outlook.office365.us");
    const url = "https://127.0.0.1:8443";
    const fromEnv = await resolve(
      ["--tenant-id", TENANT, "--client-id", CLIENT, "--authority-host", url],
      {
        AZURE_CLIENT_SECRET: SECRET,
        EXCHANGE_ADMIN_ENDPOINT: `${url}/`,
      },
    );
    expect(fromEnv.exchangeEndpoint).toBe(url);
    expect(fromEnv.exchangeAudience).toBe("https://outlook.office365.com");
    expect(fromEnv.readAuditSwitch).toBe(true);
    const flagWins = await resolve(
      [
        "--tenant-id",
        TENANT,
        "--client-id",
        CLIENT,
        "--exchange-endpoint",
        "https://exo.example.test",
      ],
      { AZURE_CLIENT_SECRET: SECRET, EXCHANGE_ADMIN_ENDPOINT: url },
    );
    expect(flagWins.exchangeEndpoint).toBe("https://exo.example.test");
    const emulated = await resolve([
      "--tenant-id",
      TENANT,
      "--client-id",
      CLIENT,
      "--authority-host",
      url,
    ]);
    expect(emulated.readAuditSwitch).toBe(false);
  });

  it("rejects an --exchange-endpoint that is not https", async () => {
    expect(
      await inputError(
        resolve([
          "--tenant-id",
          TENANT,
          "--client-id",
          CLIENT,
          "--exchange-endpoint",
          "http://x.test",
        ]),
      ),
    ).toBe("--exchange-endpoint: must be an https:// URL");
  });

  it("falls back to the collector's environment variables", async () => {
    const config = await resolve([], {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_SECRET: SECRET,
      O365_CLOUD: "gcc",
      O365_CONTENT_TYPES: "audit.exchange, DLP.All",
    });
    expect(config.cloud).toBe("gcc");
    expect(config.managementEndpoint).toBe("https://manage-gcc.office.com");
    expect(config.contentTypes).toEqual(["Audit.Exchange", "DLP.All"]);
  });

  it("uses AZURE_VERIFY_* as the caller credential when both id and secret are set", async () => {
    const config = await resolve(["--tenant-id", TENANT, "--client-id", CLIENT], {
      AZURE_CLIENT_SECRET: SECRET,
      AZURE_VERIFY_CLIENT_ID: WORKSPACE,
      AZURE_VERIFY_CLIENT_SECRET: "other",
    });
    expect(config.callerCredential.kind).toBe("verify-env");
  });

  it("prefers --certificate-path over a secret in the environment", async () => {
    const config = await resolve([
      "--tenant-id",
      TENANT,
      "--client-id",
      CLIENT,
      "--certificate-path",
      "/tmp/app.pem",
    ]);
    expect(config.appCredential).toEqual({ kind: "certificate", certificatePath: "/tmp/app.pem" });
  });

  it("never reveals the secret when the config is printed or serialised", async () => {
    const config = await resolve(["--tenant-id", TENANT, "--client-id", CLIENT]);
    expect(JSON.stringify(config)).not.toContain(SECRET);
    expect(inspect(config, { depth: 10 })).not.toContain(SECRET);
    expect(String(new Secret(SECRET))).toBe("[redacted]");
    expect(config.appCredential.kind === "secret" && config.appCredential.secret.reveal()).toBe(
      SECRET,
    );
  });

  it("returns help for --help", async () => {
    expect(await resolveVerifyConfig(["--help"], {})).toBe("help");
  });
});

describe("verify input errors", () => {
  const base = ["--tenant-id", TENANT, "--client-id", CLIENT];

  it.each([
    [["--client-id", CLIENT], "missing --tenant-id"],
    [["--tenant-id", TENANT], "missing --client-id"],
    [["--tenant-id", "contoso", "--client-id", CLIENT], "--tenant-id: must be a GUID"],
    [[...base, "--workspace-id", "/subscriptions/x"], "--workspace-id: must be a GUID"],
    [
      [...base, "--content-types", "Audit.Exchange,Audit.Teams"],
      '--content-types: unknown content type "Audit.Teams"',
    ],
    [[...base, "--cloud", "mars"], "--cloud: must be one of commercial, gcc, gcchigh, dod"],
    [[...base, "--table-plan", "Auxiliary"], "--table-plan: must be Analytics or Basic"],
    [[...base, "--since", "0"], "--since: must be a whole number between 1 and 720"],
    [[...base, "--since", "abc"], "--since: must be a whole number"],
    [[...base, "--timeout", "-5"], "--timeout"],
    [
      [...base, "--authority-host", "http://login.example"],
      "--authority-host: must be an https:// URL",
    ],
    [[...base, "--healthz-url", "not a url"], "--healthz-url: must be an http:// or https:// URL"],
    [[...base, "--bogus"], "unknown flag --bogus"],
    [[...base, "extra"], "unexpected argument: verify takes only --flags"],
    [[...base, "--tenant-id"], "--tenant-id needs a value"],
  ])("rejects %j with a one-line message naming the flag", async (argv, expected) => {
    const message = await inputError(resolveVerifyConfig(argv, { AZURE_CLIENT_SECRET: SECRET }));
    expect(message).toContain(expected);
    expect(message).not.toContain("\n");
  });

  it("requires a secret or a certificate", async () => {
    const message = await inputError(resolveVerifyConfig(base, {}));
    expect(message).toBe(
      "missing app credential: set AZURE_CLIENT_SECRET or pass --certificate-path <pem>",
    );
  });

  it("refuses a secret given as a flag without echoing its value", async () => {
    const message = await inputError(
      resolveVerifyConfig([...base, "--client-secret=hunter2-secret"], {}),
    );
    expect(message).toContain("--client-secret is not accepted");
    expect(message).toContain("AZURE_CLIENT_SECRET");
    expect(message).not.toContain("hunter2");
  });

  it("does not echo the value of an unknown --flag=value token", async () => {
    const message = await inputError(resolveVerifyConfig([...base, "--token=abc-private"], {}));
    expect(message).toBe("unknown flag --token: see npm run verify -- --help");
  });
});

describe("verify inputs from a Pulumi stack", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "verify-pulumi-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fakePulumi(script: string): Promise<string> {
    const file = path.join(dir, `pulumi-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, `#!/bin/sh\n${script}\n`);
    await chmod(file, 0o755);
    return file;
  }

  it("maps stack outputs (with aliases) and lets flags override them", async () => {
    const outputs = {
      tenantId: TENANT,
      appClientId: CLIENT,
      workspaceCustomerId: WORKSPACE,
      contentTypes: ["Audit.Exchange", "Audit.SharePoint"],
      cloud: "gcc",
      secretRotationDays: 90,
      tablePlan: "Basic",
      clientSecret: "[secret]",
    };
    const pulumi = await fakePulumi(
      `if [ "$1 $2 $3 $4 $5" = "stack output --json --stack dev" ]; then echo '${JSON.stringify(outputs)}'; else echo "bad args: $*" >&2; exit 1; fi`,
    );
    const fromStack = await resolve(
      ["--stack", "dev"],
      { AZURE_CLIENT_SECRET: SECRET },
      pulumiStackReader(pulumi),
    );
    expect(fromStack.tablePlan).toBe("Basic");
    const config = await resolve(
      ["--stack", "dev", "--cloud", "commercial", "--table-plan", "analytics"],
      { AZURE_CLIENT_SECRET: SECRET },
      pulumiStackReader(pulumi),
    );
    expect(config.stack).toBe("dev");
    expect(config.tenantId).toBe(TENANT);
    expect(config.clientId).toBe(CLIENT);
    expect(config.workspaceId).toBe(WORKSPACE);
    expect(config.contentTypes).toEqual(["Audit.Exchange", "Audit.SharePoint"]);
    expect(config.cloud).toBe("commercial");
    expect(config.rotationDays).toBe(90);
    expect(config.tablePlan).toBe("Analytics");
  });

  it("fetches the secret output only when no secret is in the environment", async () => {
    const outputs = { tenantId: TENANT, clientId: CLIENT, clientSecret: "[secret]" };
    const pulumi = await fakePulumi(
      `case "$*" in
  "stack output --json --stack dev") echo '${JSON.stringify(outputs)}' ;;
  "stack output clientSecret --json --show-secrets --stack dev") echo '"from-stack-secret"' ;;
  *) echo "bad args: $*" >&2; exit 1 ;;
esac`,
    );
    const config = await resolve(["--stack", "dev"], {}, pulumiStackReader(pulumi));
    expect(config.appCredential.kind === "secret" && config.appCredential.secret.reveal()).toBe(
      "from-stack-secret",
    );
  });

  it("says to install Pulumi or pass flags when the CLI is absent", async () => {
    const message = await inputError(
      resolveVerifyConfig(
        ["--stack", "dev"],
        {},
        {
          stackReader: pulumiStackReader(path.join(dir, "no-such-pulumi")),
        },
      ),
    );
    expect(message).toContain("install Pulumi");
    expect(message).toContain("--tenant-id");
    expect(message).not.toContain("\n");
  });

  it("reports the first line of a failing pulumi command", async () => {
    const pulumi = await fakePulumi(`echo "error: no stack named 'nope' found" >&2; exit 255`);
    const message = await inputError(
      resolveVerifyConfig(["--stack", "nope"], {}, { stackReader: pulumiStackReader(pulumi) }),
    );
    expect(message).toBe(
      "pulumi stack output failed for --stack: error: no stack named 'nope' found",
    );
  });

  it("ignores secret placeholders and rejects output that is not an object", () => {
    expect(parseStackOutputs('{"tenantId":"[secret]"}', "s").tenantId).toBeUndefined();
    expect(() => parseStackOutputs("[]", "s")).toThrow("did not return an object");
    expect(() => parseStackOutputs("nope", "s")).toThrow("did not return JSON");
  });
});
