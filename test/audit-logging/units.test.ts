import { describe, expect, it } from "vitest";
import { anchorMailbox, classifyExchangeError } from "../../scripts/audit-logging/exchangeAdmin";
import {
  AuditLoggingInputError,
  resolveAuditLoggingConfig,
} from "../../scripts/audit-logging/main";
import { fixFor, manualEnableStep } from "../../scripts/audit-logging/run";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("classifyExchangeError", () => {
  it("recognises 'Cmdlet needs proxy'", () => {
    const error = classifyExchangeError(
      "Set-AdminAuditLogConfig",
      400,
      JSON.stringify({
        error: {
          code: "BadRequest",
          message: "Cmdlet needs proxy. Current Server FQDN: a. Required Server FQDN: b.",
        },
      }),
    );
    expect(error.code).toBe("needs-proxy");
    expect(error.message).toMatch(/Cmdlet needs proxy/);
  });

  it("finds the dehydrated exception in a detail as well as in the message", () => {
    const inDetail = JSON.stringify({
      error: {
        code: "BadRequest",
        message: "Operation failed",
        details: [
          {
            code: "Context",
            message:
              "Ex1|Microsoft.Exchange.Configuration.Tasks.InvalidOperationInDehydratedContextException|not allowed",
          },
        ],
      },
    });
    expect(classifyExchangeError("Set-AdminAuditLogConfig", 400, inDetail).code).toBe("dehydrated");
  });

  it("maps 401, 403 and 404 and keeps Exchange's own code", () => {
    const body = (code: string) => JSON.stringify({ error: { code, message: "no" } });
    expect(classifyExchangeError("Get-AdminAuditLogConfig", 401, body("Unauthorized")).code).toBe(
      "unauthorized",
    );
    const forbidden = classifyExchangeError("Get-AdminAuditLogConfig", 403, body("Forbidden"));
    expect(forbidden.code).toBe("forbidden");
    expect(forbidden.apiCode).toBe("Forbidden");
    expect(classifyExchangeError("Get-AdminAuditLogConfig", 404, "not json").code).toBe(
      "not-found",
    );
  });

  it("strips Exchange's error-id prefix from the summary", () => {
    const error = classifyExchangeError(
      "Get-AdminAuditLogConfig",
      400,
      JSON.stringify({
        error: { code: "BadRequest", message: "Ex12AB|Some.Exception|The real words\nstack" },
      }),
    );
    expect(error.message).toBe(
      "Get-AdminAuditLogConfig failed (HTTP 400 BadRequest: The real words)",
    );
  });
});

describe("anchorMailbox", () => {
  it("routes Set-AdminAuditLogConfig by its own system mailbox and everything else by the default one", () => {
    expect(anchorMailbox("Set-AdminAuditLogConfig", TENANT)).toBe(
      `APP:SystemMailbox{8cc370d3-822a-4ab8-a926-bb94bd0641a9}@${TENANT}`,
    );
    expect(anchorMailbox("Get-AdminAuditLogConfig", TENANT)).toBe(
      `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${TENANT}`,
    );
  });
});

describe("fixes for sovereign clouds", () => {
  it("gives the manual PowerShell step with the cloud's environment name where the endpoint may be missing", () => {
    expect(fixFor("not-found", "gcchigh", TENANT)).toContain(
      "Connect-ExchangeOnline -ExchangeEnvironmentName O365USGovGCCHigh",
    );
    expect(fixFor("failed", "dod", TENANT)).toContain("O365USGovDoD");
    expect(manualEnableStep("commercial")).toBe(
      "Connect-ExchangeOnline -ExchangeEnvironmentName O365Default; Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true",
    );
  });
});

describe("resolveAuditLoggingConfig", () => {
  const cases: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ["no action", [], { AZURE_TENANT_ID: TENANT }, /status or enable/],
    ["an unknown action", ["disable"], { AZURE_TENANT_ID: TENANT }, /status or enable/],
    ["no tenant", ["status"], {}, /--tenant-id \(or AZURE_TENANT_ID\) is required/],
    [
      "a tenant that is not a GUID",
      ["status", "--tenant-id", "contoso"],
      {},
      /--tenant-id: must be a GUID/,
    ],
    [
      "an unknown cloud",
      ["status", "--cloud", "mars"],
      { AZURE_TENANT_ID: TENANT },
      /--cloud: must be one of/,
    ],
    [
      "an http endpoint",
      ["status", "--exchange-endpoint", "http://x"],
      { AZURE_TENANT_ID: TENANT },
      /--exchange-endpoint: must be an https URL/,
    ],
    [
      "a bad wait",
      ["enable", "--wait", "soon"],
      { AZURE_TENANT_ID: TENANT },
      /--wait: must be a duration/,
    ],
    [
      "--wait on status",
      ["status", "--wait", "1h"],
      { AZURE_TENANT_ID: TENANT },
      /only enable waits/,
    ],
    [
      "a secret flag",
      ["status", "--client-secret=abc"],
      { AZURE_TENANT_ID: TENANT },
      /AZURE_CLIENT_SECRET/,
    ],
    [
      "an unknown flag",
      ["status", "--frobnicate"],
      { AZURE_TENANT_ID: TENANT },
      /unknown flag --frobnicate/,
    ],
  ];
  for (const [what, argv, env, message] of cases) {
    it(`refuses ${what} with one line naming what to fix`, () => {
      let caught: unknown;
      try {
        resolveAuditLoggingConfig(argv, env);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AuditLoggingInputError);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain("\n");
      expect((caught as Error).message).not.toContain("abc");
    });
  }

  it("takes the cloud's Exchange host and audience, and keeps the audience when the endpoint is overridden", () => {
    const gcchigh = resolveAuditLoggingConfig(["status", "--cloud", "gcchigh"], {
      AZURE_TENANT_ID: TENANT,
    });
    expect(gcchigh).toMatchObject({
      exchangeEndpoint: "https://outlook.office365.us",
      exchangeAudience: "https://outlook.office365.us",
    });
    const overridden = resolveAuditLoggingConfig(["status"], {
      AZURE_TENANT_ID: TENANT,
      EXCHANGE_ADMIN_ENDPOINT: "https://127.0.0.1:8443",
    });
    expect(overridden).toMatchObject({
      exchangeEndpoint: "https://127.0.0.1:8443",
      exchangeAudience: "https://outlook.office365.com",
      credentialKind: "default",
    });
  });
});
