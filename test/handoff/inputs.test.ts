import { describe, expect, it } from "vitest";
import { parseStackOutputs } from "../../scripts/common/stack";
import { helpText, resolveHandoffConfig } from "../../scripts/handoff/inputs";
import {
  APP_FLAGS,
  CLIENT,
  fakeStackReader,
  inputError,
  noneStackOutputs,
  PUBLISHER,
  resolve,
  TENANT,
} from "./helpers";

describe("handoff inputs", () => {
  it("reads a collector-none stack's outputs: ids, cloud, content types, vault and secret name", async () => {
    const reader = fakeStackReader(noneStackOutputs({ publisherId: PUBLISHER, cloud: "gcchigh" }));
    const config = await resolve(["--stack", "contoso", "--siem", "splunk"], { reader });
    expect(reader.read).toEqual(["contoso"]);
    expect(config).toMatchObject({
      stack: "contoso",
      siem: "splunk",
      tenantId: TENANT,
      clientId: CLIENT,
      publisherId: PUBLISHER,
      cloud: "gcchigh",
      collector: "none",
      credentialMode: "secret",
      secretExpiresAt: "2027-06-01T00:00:00Z",
      reveal: false,
      secret: {
        vaultName: "kv-contoso-audit",
        vaultUri: "https://kv-contoso-audit.vault.azure.net",
        secretName: "audit-reader-client-secret",
      },
    });
    expect(config.contentTypes).toHaveLength(5);
  });

  it("lets flags win over the stack's outputs", async () => {
    const reader = fakeStackReader(noneStackOutputs());
    const config = await resolve(
      [
        "--stack",
        "contoso",
        "--siem",
        "elastic",
        "--content-types",
        "dlp.all,audit.exchange",
        "--cloud",
        "gcc",
      ],
      { reader },
    );
    expect(config.contentTypes).toEqual(["Audit.Exchange", "DLP.All"]);
    expect(config.cloud).toBe("gcc");
  });

  it("works from flags alone, deriving the vault URI from its name and the cloud", async () => {
    const config = await resolve([
      "--siem",
      "qradar",
      ...APP_FLAGS,
      "--cloud",
      "dod",
      "--key-vault-name",
      "kv-gov",
      "--secret-name",
      "app-secret",
    ]);
    expect(config.secret.vaultUri).toBe("https://kv-gov.vault.usgovcloudapi.net");
    expect(config.publisherId).toBe(TENANT);
    expect(config.collector).toBeNull();
  });

  it("takes the app's ids only from flags or the stack, never from the caller's AZURE_* variables", async () => {
    const message = await inputError(
      resolve(["--siem", "splunk"], {
        env: { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT },
      }),
    );
    expect(message).toBe("missing --tenant-id: pass it or use --stack <name>");
  });

  it.each([
    [
      [...APP_FLAGS],
      "--siem is required: one of splunk, arcsight, qradar, mcafee-esm, elastic, sentinel",
    ],
    [
      ["--siem", "logrhythm", ...APP_FLAGS],
      "--siem: must be one of splunk, arcsight, qradar, mcafee-esm, elastic, sentinel",
    ],
    [
      ["--siem", "splunk", "--tenant-id", "contoso", "--client-id", CLIENT],
      "--tenant-id: must be a GUID (the Microsoft 365 tenant id)",
    ],
    [
      ["--siem", "splunk", "--tenant-id", TENANT],
      "missing --client-id: pass it or use --stack <name>",
    ],
    [
      ["--siem", "splunk", ...APP_FLAGS, "--cloud", "mars"],
      "--cloud: must be one of commercial, gcc, gcchigh, dod",
    ],
    [
      ["--siem", "splunk", ...APP_FLAGS, "--content-types", "Audit.Teams"],
      "--content-types: must be a comma list of Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All (unknown: Audit.Teams)",
    ],
    [
      ["--siem", "splunk", ...APP_FLAGS, "--key-vault-name", "1bad"],
      "--key-vault-name: must be 3-24 letters, digits and dashes, starting with a letter",
    ],
    [
      ["--siem", "splunk", ...APP_FLAGS, "--key-vault-uri", "http://kv.example"],
      "--key-vault-uri: must be an https:// URL",
    ],
    [
      ["--siem", "splunk", ...APP_FLAGS, "--client-secret=abc"],
      "--client-secret is not accepted: handoff reads the secret from Key Vault (--reveal), never from a flag",
    ],
    [
      ["--siem", "splunk", ...APP_FLAGS, "--reveal"],
      "--reveal needs to know where the secret is: pass --key-vault-name (or --key-vault-uri) and --secret-name, or use --stack <name>",
    ],
    [
      ["--siem", "sentinel", "--tenant-id", TENANT, "--reveal"],
      "--reveal: Microsoft Sentinel's built-in connector needs no secret; drop --reveal",
    ],
    [
      ["--siem", "splunk", ...APP_FLAGS, "--bogus"],
      "unknown flag --bogus: see npm run handoff -- --help",
    ],
  ])("refuses %j with one line: %s", async (argv, expected) => {
    const message = await inputError(resolve(argv));
    expect(message).toBe(expected);
    expect(message).not.toContain("\n");
    expect(message).not.toContain("abc");
  });

  it("refuses a keyless stack for a SIEM that needs an app, saying what to change", async () => {
    const none = fakeStackReader(noneStackOutputs({ credentialMode: "federated" }));
    expect(
      await inputError(resolve(["--stack", "s", "--siem", "splunk"], { reader: none })),
    ).toMatch(
      /^credentialMode federated cannot work with collector none .*set credentialMode secret/,
    );
    const bundled = fakeStackReader(
      noneStackOutputs({ credentialMode: "federated", collector: "bundled" }),
    );
    expect(
      await inputError(resolve(["--stack", "s", "--siem", "elastic"], { reader: bundled })),
    ).toMatch(/^the app is keyless \(credentialMode federated\).*set credentialMode secret/);
    // Sentinel's connector needs no app, so a keyless stack is fine there.
    const config = await resolve(["--stack", "s", "--siem", "sentinel"], { reader: bundled });
    expect(config.credentialMode).toBe("federated");
  });

  it("finds a certificate stack's PEM bundle from its credentialSecretName output", async () => {
    const reader = fakeStackReader(
      noneStackOutputs({
        credentialMode: "certificate",
        clientSecretName: "",
        credentialSecretName: "collector-credential",
      }),
    );
    const config = await resolve(["--stack", "s", "--siem", "qradar"], { reader });
    expect(config.secret.secretName).toBe("collector-credential");
    const message = await inputError(
      resolve(["--stack", "s", "--siem", "qradar", "--reveal"], { reader }),
    );
    expect(message).toMatch(/--name collector-credential --file app\.pem$/);
  });

  it("refuses --reveal in certificate mode and names the download command instead", async () => {
    const reader = fakeStackReader(
      noneStackOutputs({ credentialMode: "certificate", clientSecretName: "" }),
    );
    const message = await inputError(
      resolve(
        ["--stack", "s", "--siem", "qradar", "--reveal", "--secret-name", "collector-credential"],
        {
          reader,
        },
      ),
    );
    expect(message).toBe(
      "--reveal prints a client secret, and this app signs in with a certificate: download the PEM bundle with az keyvault secret download --vault-name kv-contoso-audit --name collector-credential --file app.pem",
    );
  });

  it("names the stack output when a stack value is malformed", async () => {
    const reader = fakeStackReader(noneStackOutputs({ clientId: "not-a-guid" }));
    expect(await inputError(resolve(["--stack", "s", "--siem", "splunk"], { reader }))).toBe(
      "--client-id: must be a GUID (the app registration's client id) (check the flag, or the stack's clientId output)",
    );
  });

  it("starts --help with an example", async () => {
    expect(
      helpText().startsWith("Example:\n  npm run handoff -- --stack contoso --siem splunk"),
    ).toBe(true);
    expect(await resolveHandoffConfig(["--help"], {})).toBe("help");
  });
});

describe("a collector-none stack's outputs as pulumi prints them", () => {
  it("are read under the contract's names, with empty strings for what does not apply", async () => {
    const text = JSON.stringify({
      tenantId: TENANT,
      clientId: CLIENT,
      collector: "none",
      collectorMode: "",
      sinks: "",
      cloud: "gcchigh",
      contentTypes: "Audit.Exchange,DLP.All",
      publisherId: PUBLISHER,
      keyVaultName: "kv-contoso-audit",
      keyVaultUri: "https://kv-contoso-audit.vault.usgovcloudapi.net/",
      credentialMode: "secret",
      clientSecretName: "audit-reader-client-secret",
      secretExpiresAt: "2027-06-01T00:00:00Z",
      workspaceResourceId: "",
      workspaceCustomerId: "",
      collectorAppName: "",
    });
    const outputs = parseStackOutputs(text, "contoso");
    const config = await resolve(["--stack", "contoso", "--siem", "elastic"], {
      reader: fakeStackReader(outputs),
    });
    expect(config).toMatchObject({
      collector: "none",
      cloud: "gcchigh",
      contentTypes: ["Audit.Exchange", "DLP.All"],
      publisherId: PUBLISHER,
      workspaceResourceId: null,
      secret: {
        vaultName: "kv-contoso-audit",
        vaultUri: "https://kv-contoso-audit.vault.usgovcloudapi.net",
        secretName: "audit-reader-client-secret",
      },
    });
  });

  it("treat an older stack without a collector output as unknown, not as none", async () => {
    const outputs = parseStackOutputs(
      JSON.stringify({ tenantId: TENANT, clientId: CLIENT }),
      "old",
    );
    const config = await resolve(["--stack", "old", "--siem", "splunk"], {
      reader: fakeStackReader(outputs),
    });
    expect(config.collector).toBeNull();
    expect(config.credentialMode).toBe("secret");
  });
});
