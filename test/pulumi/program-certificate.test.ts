/**
 * The program with `credentialMode: certificate` and `collector: none`: the app signs in with a
 * certificate whose PEM bundle (certificate and key) the stack keeps in its Key Vault, and the
 * stack names that vault secret in `credentialSecretName` so `npm run handoff -- --stack` can
 * point a SIEM's administrator at it.
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import selfsigned from "selfsigned";
import { beforeAll, describe, expect, it } from "vitest";
import { isSecret, isSecretInput, plain, type Recorder, runProgram } from "./mocks";
import { cliConfigFor, readProject } from "./pulumiProject";

const ROOT = path.resolve(__dirname, "..", "..");
const DAY_MS = 24 * 60 * 60 * 1000;

let recorder: Recorder;
let program: Record<string, pulumi.Output<string>>;
let bundle = "";
let outputs: Record<string, string>;

beforeAll(async () => {
  const now = Date.now();
  const made = await selfsigned.generate(
    [{ name: "commonName", value: "auditbridge-certificate-test" }],
    {
      keyType: "ec",
      algorithm: "sha256",
      notBeforeDate: new Date(now - DAY_MS),
      notAfterDate: new Date(now + 365 * DAY_MS),
    },
  );
  bundle = `${made.cert}${made.private}`;
  const project = readProject(ROOT);
  const config = cliConfigFor(project, "example");
  delete config["auditbridge:collectorImage"];
  delete config["auditbridge:collectorRegistryResourceId"];
  pulumi.runtime.setAllConfig(
    {
      ...config,
      "auditbridge:collector": "none",
      "auditbridge:credentialMode": "certificate",
      "auditbridge:clientCertificatePem": bundle,
    },
    ["auditbridge:clientCertificatePem"],
  );
  ({ recorder, program, outputs } = await runProgram(
    path.resolve(ROOT, project.main),
    project.name,
  ));
});

describe("the program in certificate mode", () => {
  it("names the vault secret holding the PEM bundle, and no client secret", () => {
    const secret = recorder.one("azure-native:keyvault:Secret");
    expect(outputs.credentialMode).toBe("certificate");
    expect(outputs.credentialSecretName).toBe(secret.inputs.secretName);
    expect(outputs.credentialSecretName).toBe("collector-credential");
    expect(outputs.clientSecretName).toBe("");
    const properties = plain(secret.inputs.properties) as { value: string; contentType: string };
    expect(properties.contentType).toBe("application/x-pem-file");
    // The certificate and its key, whatever line endings the bundle came with.
    const lines = (pem: string) => pem.replace(/\r\n/g, "\n").trim();
    expect(lines(properties.value)).toBe(lines(bundle));
  });

  it("keeps the bundle a secret in the vault and out of every output", async () => {
    const secret = recorder.one("azure-native:keyvault:Secret");
    expect(isSecretInput(secret.inputs.properties)).toBe(true);
    for (const [name, output] of Object.entries(program)) {
      expect(await isSecret(output), name).toBe(false);
      expect(outputs[name], name).not.toContain("PRIVATE KEY");
    }
  });
});
