import { describe, expect, it } from "vitest";
import {
  describeTokenError as describeForCollector,
  isFatalTokenError,
} from "../../collector/src/credentials";
import { classifyApiResponse } from "../../collector/src/source/classifier";
import { ENTRA_ERROR_CODES, MANAGEMENT_API_CODES } from "../../domain/apiErrors";
import { describeTokenError } from "../../scripts/verify/explain";
import { resolveVerifyConfig, type VerifyConfig } from "../../scripts/verify/inputs";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";

async function config(): Promise<VerifyConfig> {
  const c = await resolveVerifyConfig(["--tenant-id", TENANT, "--client-id", CLIENT], {
    AZURE_CLIENT_SECRET: "x",
  });
  if (c === "help") throw new Error("help");
  return c;
}

describe("one table of Microsoft's error codes, two tools' advice", () => {
  it.each(Object.keys(MANAGEMENT_API_CODES))(
    "the collector's classifier gives %s its meaning and the code",
    (code) => {
      const classification = classifyApiResponse({ status: 400, code });
      expect(classification.reason).toContain(`${MANAGEMENT_API_CODES[code]!.meaning} (${code})`);
    },
  );

  it.each(Object.keys(ENTRA_ERROR_CODES))(
    "%s is a configuration error the collector names with its variable",
    (code) => {
      const error = new Error(`${code}: Something the service said. Trace ID: 1`);
      expect(isFatalTokenError(error)).toBe(true);
      const line = describeForCollector(error);
      expect(line).toContain(`(${code}): ${ENTRA_ERROR_CODES[code]!.meaning}: `);
      expect(line).toMatch(/AZURE_|AUDIT_|pulumi up/);
    },
  );

  it.each(Object.keys(ENTRA_ERROR_CODES))(
    "%s gets verify's own reason with the code and a fix naming what to change",
    async (code) => {
      const described = describeTokenError(
        new Error(`${code}: Something. Trace ID: 1`),
        await config(),
      );
      expect(described.aadsts).toBe(code.slice("AADSTS".length));
      expect(described.reason).toContain(code);
      expect(described.reason).not.toContain("Entra ID refused the token request");
      expect(described.fix).not.toContain("AZURE_CLIENT_CERTIFICATE_PATH");
      expect(described.fix.length).toBeGreaterThan(10);
    },
  );

  it("sends codes the table does not know to Microsoft's error lookup", async () => {
    const described = describeTokenError(new Error("AADSTS50011: reply URL"), await config());
    expect(described.reason).toBe("Entra ID refused the token request (AADSTS50011)");
    expect(described.fix).toBe(
      "look up AADSTS50011 at https://login.microsoftonline.com/error?code=50011",
    );
  });
});
