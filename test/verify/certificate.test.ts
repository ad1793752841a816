import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import selfsigned from "selfsigned";
import { afterEach, describe, expect, it } from "vitest";
import type { Emulator } from "../../emulator/src/index";
import type { VerifyReport } from "../../scripts/common/output";
import { resolveVerifyConfig, type VerifyConfig } from "../../scripts/verify/inputs";
import { verify } from "../../scripts/verify/run";
import { checkById, emulatorFlags, startHealthyTenant } from "./helpers";

const ROOT = path.resolve(__dirname, "..", "..");
const DAY_MS = 24 * 60 * 60 * 1000;

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

/** A tenant where the collector has subscribed and delivered rows. */
async function healthyTenant(): Promise<Emulator> {
  emulator = await startHealthyTenant({ seed: 13 });
  return emulator;
}

/** Verify's config with `--certificate-path` set to the emulator's PEM and no secret anywhere. */
async function certificateConfig(e: Emulator): Promise<VerifyConfig> {
  const config = await resolveVerifyConfig(
    emulatorFlags(e, ["--certificate-path", e.tenant.certificatePath]),
    {},
  );
  if (config === "help") throw new Error("unexpected help");
  return config;
}

describe("verify with --certificate-path against the emulator", () => {
  it("passes check 1 with a certificate-issued token and reports the certificate's end date in check 3", async () => {
    const e = await healthyTenant();
    const config = await certificateConfig(e);
    expect(config.appCredential.kind).toBe("certificate");
    const report = await verify(config);
    const token = checkById(report, "token");
    expect(token.status).toBe("pass");
    expect(token.reason).toMatch(/issued with the app's certificate, valid \d+ more min$/);
    const expiry = checkById(report, "credential-expiry");
    expect(expiry.status).toBe("pass");
    const end = new Date(e.knobs.certificateExpiresAtMs).toISOString();
    expect(expiry.reason).toBe(
      `the newest certificate is valid for ${Math.floor((e.knobs.certificateExpiresAtMs - e.now()) / DAY_MS)} more days (until ${end.slice(0, 10)})`,
    );
    expect(expiry.details).toMatchObject({ credentials: [{ endDateTime: end }] });
    expect(report.exitCode).toBe(0);
  });

  it("warns in check 3 when the certificate expires within 30 days", async () => {
    const e = await healthyTenant();
    e.knobs.certificateExpiresAtMs = e.now() + 10 * DAY_MS + 60_000;
    const report = await verify(await certificateConfig(e));
    expect(checkById(report, "token").status).toBe("pass");
    const expiry = checkById(report, "credential-expiry");
    expect(expiry.status).toBe("warn");
    expect(expiry.reason).toMatch(
      /^the certificate expires in 10 days \(\d{4}-\d\d-\d\d\), within the 30-day warning period$/,
    );
    expect(report.exitCode).toBe(3);
  });

  it("fails check 1 naming AADSTS700027 when the certificate registration has expired", async () => {
    const e = await healthyTenant();
    e.knobs.certificateExpiresAtMs = e.now() - DAY_MS;
    const report = await verify(await certificateConfig(e));
    const token = checkById(report, "token");
    expect(token.status).toBe("fail");
    expect(token.reason).toBe("the app's certificate registration has expired (AADSTS700027)");
    expect(token.fix).toContain("issue a new certificate");
    expect(report.exitCode).toBe(1);
  });

  it("fails check 1 saying the certificate is not registered when the PEM is another certificate", async () => {
    const e = await healthyTenant();
    const other = await selfsigned.generate([{ name: "commonName", value: "unregistered" }], {
      keyType: "rsa",
      keySize: 2048,
      algorithm: "sha256",
    });
    const pemPath = path.join(mkdtempSync(path.join(tmpdir(), "auditbridge-verify-")), "o.pem");
    writeFileSync(pemPath, `${other.cert}\n${other.private}\n`);
    const config = await resolveVerifyConfig(emulatorFlags(e, ["--certificate-path", pemPath]), {});
    if (config === "help") throw new Error("unexpected help");
    const token = checkById(await verify(config), "token");
    expect(token.status).toBe("fail");
    expect(token.reason).toContain("not registered on the app");
    expect(token.fix).toContain(e.tenant.clientId);
  });

  it("runs as a CLI with --certificate-path and no AZURE_CLIENT_SECRET, exiting 0", async () => {
    const e = await healthyTenant();
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          "npx",
          [
            "tsx",
            "scripts/verify/main.ts",
            ...emulatorFlags(e, ["--json", "--certificate-path", e.tenant.certificatePath]),
          ],
          {
            cwd: ROOT,
            env: { ...process.env, AZURE_CLIENT_SECRET: undefined, NO_COLOR: undefined },
            timeout: 60_000,
          },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
          },
        );
      },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(checkById(report, "token").status).toBe("pass");
    expect(checkById(report, "credential-expiry").status).toBe("pass");
    expect(result.stdout).not.toContain("PRIVATE KEY");
  }, 90_000);
});
