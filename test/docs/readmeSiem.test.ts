/**
 * The README's "Send to your SIEM" configurations are stack configurations a user pastes: each
 * block must pass the stack's own config checks and choose the sinks it says.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import selfsigned from "selfsigned";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../stacks/config";

const README = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");

/** The smallest valid stack the README's blocks are added to. */
const BASE: Readonly<Record<string, string>> = {
  m365TenantId: "11111111-2222-3333-4444-555555555555",
  location: "westeurope",
  resourceGroupName: "rg-auditbridge-contoso",
  collectorImage: "contosoacr.azurecr.io/auditbridge-collector:0.1.0",
};

interface Block {
  title: string;
  values: Record<string, string>;
  secretKeys: string[];
}

function siemBlocks(caPem: string): Block[] {
  const section = README.slice(README.indexOf("## Send to your SIEM"));
  const start = section.indexOf("```sh\n") + "```sh\n".length;
  const code = section.slice(start, section.indexOf("\n```\n", start));
  return code.split("\n\n").map((text) => {
    const [title = "", ...lines] = text.split("\n");
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const line of lines) {
      const match = /^pulumi config set (--secret )?auditbridge:(\w+) (?:-- )?(.+)$/.exec(line);
      if (!match) throw new Error(`README: not a pulumi config set line: ${line}`);
      const [, secret, key = "", value = ""] = match;
      values[key] = value.startsWith('"$(cat ')
        ? caPem
        : value === "<the token's GUID>"
          ? "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
          : value;
      if (secret) secretKeys.push(key);
    }
    return { title: title.replace(/^# /, ""), values, secretKeys };
  });
}

let blocks: Block[] = [];

beforeAll(async () => {
  const ca = await selfsigned.generate([{ name: "commonName", value: "siem-ca.example.com" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate: new Date("2026-01-01T00:00:00Z"),
    notAfterDate: new Date("2028-01-01T00:00:00Z"),
  });
  blocks = siemBlocks(ca.cert);
});

describe("README: Send to your SIEM", () => {
  it("has one worked configuration per SIEM the procedure names, and Sentinel", () => {
    const titles = blocks.map((block) => block.title.split(":")[0]);
    expect(titles).toEqual([
      "ArcSight",
      "McAfee / Trellix ESM",
      "IBM QRadar",
      "Splunk",
      "Elastic (Logstash or Elastic Agent syslog input), Graylog, any other",
      "Microsoft Sentinel",
    ]);
  });

  it("gives configurations the stack accepts, with the sinks and formats they name", () => {
    for (const block of blocks) {
      const config = parseStackConfig(
        { ...BASE, ...block.values },
        {
          stack: "contoso",
          nowMs: Date.parse("2026-12-03T12:00:00Z"),
          secretKeys: new Set(block.secretKeys),
        },
      );
      const wanted = block.values.sinks?.split(",") ?? [];
      expect(config.sinks?.logsIngestion ?? false, block.title).toBe(
        wanted.includes("logs-ingestion"),
      );
      if (wanted.includes("syslog")) {
        expect(config.sinks?.syslog?.format, block.title).toBe(block.values.syslogFormat);
      }
      if (wanted.includes("splunk-hec")) expect(config.sinks?.splunkHec, block.title).toBeDefined();
    }
  });
});
