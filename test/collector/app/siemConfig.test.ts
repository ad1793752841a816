/**
 * The SIEM sinks' settings as the collector loads them: each checked on its own, then together
 * when the sink is chosen, with problems spelt as the user set them and the HEC token never
 * echoed.
 */
import { describe, expect, it } from "vitest";
import {
  type CliFlags,
  type CollectorConfig,
  describeConfig,
  isConfigError,
  loadConfig,
} from "../../../collector/src/config";

const base = {
  AZURE_TENANT_ID: "9b1c6a3e-2f4d-4e8a-9c1b-7d2e3f4a5b6c",
  AZURE_CLIENT_ID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
  AZURE_CLIENT_SECRET: "s3cr3t~value-that-must-never-leak",
};
const TOKEN = "7a0d2c2e-3f1b-4c5d-9e8f-abcdefabcdef";

function load(env: Record<string, string | undefined>, flags: CliFlags = {}): CollectorConfig {
  return loadConfig(flags, { ...base, ...env });
}

function problemOf(env: Record<string, string | undefined>, flags: CliFlags = {}): string {
  try {
    load(env, flags);
  } catch (error) {
    if (isConfigError(error)) return error.message;
    throw error;
  }
  throw new Error("expected a configuration error");
}

describe("the syslog sink's settings", () => {
  it("resolve to a TLS target on the default port with the documented defaults", () => {
    const config = load({ AUDIT_SINK: "syslog", SYSLOG_URL: "tls://siem.example.com" });
    expect(config.sinks).toEqual([
      {
        kind: "syslog",
        settings: {
          target: { transport: "tls", host: "siem.example.com", port: 6514 },
          format: "cef",
          appName: "auditbridge",
          maxMessageBytes: 8192,
        },
      },
    ]);
    expect(describeConfig(config).sinks).toEqual(["syslog:tls://siem.example.com:6514 cef"]);
  });

  it("fan out next to Logs Ingestion and the file sink", () => {
    const config = load({
      AUDIT_SINK: "file,syslog",
      SYSLOG_URL: "tcp://127.0.0.1:1514",
      SYSLOG_FORMAT: "LEEF",
    });
    expect(config.sinks.map((sink) => sink.kind)).toEqual(["file", "syslog"]);
    const syslog = config.sinks[1];
    expect(syslog?.kind === "syslog" && syslog.settings.format).toBe("leef");
  });

  it("require SYSLOG_URL when the sink is chosen, named as the user spelt it", () => {
    expect(problemOf({ AUDIT_SINK: "syslog" })).toMatch(
      /SYSLOG_URL is required with AUDIT_SINK=syslog/,
    );
  });

  it("refuse a bad format, and a datagram-sized limit only for udp", () => {
    expect(
      problemOf({ AUDIT_SINK: "syslog", SYSLOG_URL: "tcp://h:1", SYSLOG_FORMAT: "xml" }),
    ).toMatch(/^SYSLOG_FORMAT /);
    expect(
      problemOf({
        AUDIT_SINK: "syslog",
        SYSLOG_URL: "udp://h:514",
        SYSLOG_MAX_MESSAGE_BYTES: "70000",
      }),
    ).toMatch(/SYSLOG_MAX_MESSAGE_BYTES .*65507/);
    expect(
      load({ AUDIT_SINK: "syslog", SYSLOG_URL: "tcp://h:1514", SYSLOG_MAX_MESSAGE_BYTES: "70000" })
        .sinks[0],
    ).toMatchObject({ settings: { maxMessageBytes: 70000 } });
  });

  it("name the flag when the setting came from one", () => {
    expect(problemOf({ AUDIT_SINK: "syslog" }, { syslogUrl: "ftp://nowhere" } as CliFlags)).toMatch(
      /^--syslog-url /,
    );
  });

  it("refuse TLS files on a plain tcp URL", () => {
    expect(
      problemOf({
        AUDIT_SINK: "syslog",
        SYSLOG_URL: "tcp://h:1514",
        SYSLOG_CA_FILE: "/tmp/ca.pem",
      }),
    ).toMatch(/apply to tls:\/\/ only/);
  });
});

describe("the Splunk HEC sink's settings", () => {
  it("resolve with the Office 365 add-on's sourcetype and keep the token out of the startup echo", () => {
    const config = load({
      AUDIT_SINK: "splunk-hec",
      SPLUNK_HEC_URL: "https://splunk.example.com:8088",
      SPLUNK_HEC_TOKEN: TOKEN,
      SPLUNK_HEC_INDEX: "o365",
      SPLUNK_HEC_ACK: "true",
    });
    const hec = config.sinks[0];
    expect(hec?.kind).toBe("splunk-hec");
    if (hec?.kind !== "splunk-hec") return;
    expect(hec.settings).toMatchObject({
      token: TOKEN,
      index: "o365",
      ack: true,
      sourcetype: "o365:management:activity",
    });
    const echo = JSON.stringify(describeConfig(config));
    expect(echo).toContain("splunk-hec:https://splunk.example.com:8088 index o365 ack");
    expect(echo).not.toContain(TOKEN);
  });

  it("require the token, never echoing a bad one", () => {
    expect(
      problemOf({ AUDIT_SINK: "splunk-hec", SPLUNK_HEC_URL: "https://splunk.example.com:8088" }),
    ).toMatch(/SPLUNK_HEC_TOKEN is required/);
    const bad = "has spaces inside";
    const problem = problemOf({
      AUDIT_SINK: "splunk-hec",
      SPLUNK_HEC_URL: "https://splunk.example.com:8088",
      SPLUNK_HEC_TOKEN: bad,
    });
    expect(problem).toMatch(/SPLUNK_HEC_TOKEN is invalid/);
    expect(problem).not.toContain(bad);
  });

  it("refuse a bad index and a non-boolean acknowledgement switch", () => {
    expect(problemOf({ SPLUNK_HEC_INDEX: "Bad Index" })).toMatch(/^SPLUNK_HEC_INDEX /);
    expect(problemOf({ SPLUNK_HEC_ACK: "maybe" })).toMatch(/^SPLUNK_HEC_ACK /);
  });
});
