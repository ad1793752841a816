/**
 * The collector's sinks as the deployment sets them up: which sinks run (AUDIT_SINK), their
 * settings as environment variables of the collector contract (domain/collectorEnv.ts), the
 * Splunk HEC token and the syslog client key as Key Vault secrets the Container App reads by
 * reference with the managed identity, and the PEM files (CAs, client certificate and key)
 * mounted from a Container Apps secret volume.
 * https://learn.microsoft.com/azure/container-apps/manage-secrets
 */
import { createHash } from "node:crypto";
import type { app as appInput } from "@pulumi/azure-native/types/input";
import type * as pulumi from "@pulumi/pulumi";
import type { EnvKey, SinkKind } from "../domain/collectorEnv";
import {
  DEFAULT_SPLUNK_HEC_SOURCETYPE,
  DEFAULT_SYSLOG_APP_NAME,
  DEFAULT_SYSLOG_FORMAT,
  DEFAULT_SYSLOG_MAX_MESSAGE_BYTES,
  parseSplunkHecToken,
  parseSplunkHecUrl,
  parseSplunkIndex,
  parseSplunkSourcetype,
  parseSyslogAppName,
  parseSyslogFormat,
  parseSyslogMaxMessageBytes,
  parseSyslogUrl,
  type SyslogFormat,
} from "../domain/siemSettings";
import { envVar } from "./collectorContainer";
import { type CredentialVault, vaultSecret } from "./collectorCredential";
import type { CollectorGrant } from "./collectorGrants";
import { AZURE_ROLES } from "./roles";
import { certificatesPemProblem, privateKeyPemProblem } from "./validators";

/** Where the sinks' PEM files are mounted inside the container. */
export const SINK_FILES_MOUNT_PATH = "/mnt/sink-files";
/** Name of the Container Apps secret volume holding them. */
const SINK_FILES_VOLUME = "sink-files";

/** Key Vault secret names of the sinks' secrets (next to the app credential's). */
export const SINK_SECRET_NAMES = {
  splunkHecToken: "splunk-hec-token",
  syslogClientKey: "syslog-client-key",
} as const;

/** A syslog receiver (the collector's SYSLOG_* settings). */
export interface SyslogSinkArgs {
  /** `tls://host[:port]`, `tcp://host:port` or `udp://host[:port]` (SYSLOG_URL). */
  url: string;
  /** cef, leef or json; default cef (SYSLOG_FORMAT). */
  format?: SyslogFormat;
  /** RFC 5424 APP-NAME; default auditbridge (SYSLOG_APP_NAME). */
  appName?: string;
  /** Longest message in bytes, header included; default 8192 (SYSLOG_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
  /** PEM of the CA that signed the receiver's certificate (tls:// only); mounted as a file. */
  caPem?: string;
  /** PEM client certificate for mutual TLS (tls:// only, with `clientKeyPem`); mounted as a file. */
  clientCertPem?: string;
  /**
   * Its unencrypted PEM private key, a secret: kept in Key Vault and mounted as a file through a
   * Key Vault reference.
   */
  clientKeyPem?: pulumi.Input<string>;
}

/** A Splunk HTTP Event Collector (the collector's SPLUNK_HEC_* settings). */
export interface SplunkHecSinkArgs {
  /** HEC base URL, e.g. `https://splunk.example.com:8088` (SPLUNK_HEC_URL). */
  url: string;
  /** The HEC token, a secret: kept in Key Vault and passed by Key Vault reference. */
  token: pulumi.Input<string>;
  /** Index for every event; default the token's default index (SPLUNK_HEC_INDEX). */
  index?: string;
  /** Sourcetype; default o365:management:activity (SPLUNK_HEC_SOURCETYPE). */
  sourcetype?: string;
  /** Count a batch only once Splunk has indexed it (indexer acknowledgement); default false. */
  ack?: boolean;
  /** PEM of the CA that signed Splunk's HEC certificate; mounted as a file. */
  caPem?: string;
}

/** Where the collector delivers: any combination, at least one. */
export interface SinkArgs {
  /**
   * Log Analytics through the Logs Ingestion API: the workspace, table, DCE and DCR are created
   * for it. Default true.
   */
  logsIngestion?: boolean;
  /** A syslog receiver (CEF, LEEF or JSON). */
  syslog?: SyslogSinkArgs;
  /** A Splunk HTTP Event Collector. */
  splunkHec?: SplunkHecSinkArgs;
}

/** The sinks when none are given: Log Analytics only. */
export const DEFAULT_SINKS: SinkArgs = Object.freeze({ logsIngestion: true });

/** The AUDIT_SINK names of the configured sinks, in a fixed order. */
export function sinkKinds(sinks: SinkArgs = DEFAULT_SINKS): SinkKind[] {
  return [
    ...(sinks.logsIngestion !== false ? (["logs-ingestion"] as const) : []),
    ...(sinks.syslog ? (["syslog"] as const) : []),
    ...(sinks.splunkHec ? (["splunk-hec"] as const) : []),
  ];
}

/** Whether the sinks keep a secret in Key Vault (so a vault is needed even in keyless mode). */
export function sinksNeedVault(sinks: SinkArgs = DEFAULT_SINKS): boolean {
  return sinks.splunkHec !== undefined || sinks.syslog?.clientKeyPem !== undefined;
}

/**
 * Problem with the sinks, if any, as `<argument> <phrase>`: the same rules the collector applies
 * to its SYSLOG_* and SPLUNK_HEC_* settings, checked before anything is deployed. Secret values
 * are checked when given as plain strings and never quoted.
 */
export function sinksProblem(sinks: SinkArgs): string | undefined {
  if (sinkKinds(sinks).length === 0) {
    return "sinks must name at least one sink (logsIngestion, syslog or splunkHec)";
  }
  const syslog = sinks.syslog;
  if (syslog) {
    const url = parseSyslogUrl(syslog.url);
    if (!url.ok) return `syslog.url ${url.problem}`;
    if (syslog.format !== undefined) {
      const format = parseSyslogFormat(syslog.format);
      if (!format.ok) return `syslog.format ${format.problem}`;
    }
    if (syslog.appName !== undefined) {
      const appName = parseSyslogAppName(syslog.appName);
      if (!appName.ok) return `syslog.appName ${appName.problem}`;
    }
    if (syslog.maxMessageBytes !== undefined) {
      const max = parseSyslogMaxMessageBytes(String(syslog.maxMessageBytes), url.value.transport);
      if (!max.ok) return `syslog.maxMessageBytes ${max.problem}`;
    }
    if ((syslog.clientCertPem === undefined) !== (syslog.clientKeyPem === undefined)) {
      return "syslog.clientCertPem and syslog.clientKeyPem go together; set both or neither";
    }
    const files = [syslog.caPem, syslog.clientCertPem, syslog.clientKeyPem];
    if (url.value.transport !== "tls" && files.some((file) => file !== undefined)) {
      return "syslog.caPem, syslog.clientCertPem and syslog.clientKeyPem apply to a tls:// url only";
    }
    for (const [arg, pem] of [
      ["caPem", syslog.caPem],
      ["clientCertPem", syslog.clientCertPem],
    ] as const) {
      const problem = pem === undefined ? undefined : certificatesPemProblem(pem);
      if (problem) return `syslog.${arg} ${problem}`;
    }
    if (typeof syslog.clientKeyPem === "string") {
      const problem = privateKeyPemProblem(syslog.clientKeyPem);
      if (problem) return `syslog.clientKeyPem ${problem}`;
    }
  }
  const hec = sinks.splunkHec;
  if (hec) {
    const url = parseSplunkHecUrl(hec.url);
    if (!url.ok) return `splunkHec.url ${url.problem}`;
    if (typeof hec.token === "string") {
      const token = parseSplunkHecToken(hec.token);
      if (!token.ok) return `splunkHec.token is invalid: ${token.problem}`;
    }
    if (hec.index !== undefined) {
      const index = parseSplunkIndex(hec.index);
      if (!index.ok) return `splunkHec.index ${index.problem}`;
    }
    if (hec.sourcetype !== undefined) {
      const sourcetype = parseSplunkSourcetype(hec.sourcetype);
      if (!sourcetype.ok) return `splunkHec.sourcetype ${sourcetype.problem}`;
    }
    const problem = hec.caPem === undefined ? undefined : certificatesPemProblem(hec.caPem);
    if (problem) return `splunkHec.caPem ${problem}`;
  }
  return undefined;
}

/** The container-side wiring of the sinks, plus the grants the identity needs for them. */
export interface SinkWiring {
  env: pulumi.Input<appInput.EnvironmentVarArgs>[];
  secrets: pulumi.Input<appInput.SecretArgs>[];
  volumes: pulumi.Input<appInput.VolumeArgs>[];
  volumeMounts: pulumi.Input<appInput.VolumeMountArgs>[];
  grants: CollectorGrant[];
}

/** Arguments of {@link collectorSinks}. */
export interface CollectorSinksArgs {
  sinks: SinkArgs;
  /** Logs Ingestion target; required with the logs-ingestion sink. */
  ingestion?: {
    endpoint: pulumi.Input<string>;
    ruleId: pulumi.Input<string>;
    stream: string;
  };
  /** The stack's vault; required when {@link sinksNeedVault}. */
  vault?: CredentialVault;
  /** Resource id of the managed identity that resolves the Key Vault references. */
  identityId: pulumi.Input<string>;
  resourceGroupName: pulumi.Input<string>;
  tags?: Readonly<Record<string, string>>;
}

/**
 * Builds the sinks' environment, secrets and volume, and creates their Key Vault secrets.
 *
 * Container Apps starts no new revision when only a secret's value changes, so a running
 * collector would keep an old token or certificate. Every secret's name therefore carries its
 * version: a Key Vault reference is pinned to the secret version the stack just wrote and named
 * after it, and a plain PEM (public certificates only) is named after a hash of its text. A change
 * renames the secret the container refers to, which changes the template and starts a revision
 * that reads the new value.
 * https://learn.microsoft.com/azure/container-apps/manage-secrets
 */
export function collectorSinks(
  name: string,
  args: CollectorSinksArgs,
  opts: pulumi.CustomResourceOptions,
): SinkWiring {
  const { sinks } = args;
  const wiring: SinkWiring = { env: [], secrets: [], volumes: [], volumeMounts: [], grants: [] };
  const files: { secretRef: pulumi.Input<string>; path: string }[] = [];
  const kinds = sinkKinds(sinks);
  wiring.env.push(envVar("AUDIT_SINK", kinds.join(",")));

  /** A public PEM as a plain Container Apps secret, mounted as `file`. */
  const plainFile = (secretName: string, pem: string, file: string): string => {
    const ref = `${secretName}-${createHash("sha256").update(pem).digest("hex").slice(0, 12)}`;
    wiring.secrets.push({ name: ref, value: pem });
    files.push({ secretRef: ref, path: file });
    return `${SINK_FILES_MOUNT_PATH}/${file}`;
  };
  /** A secret kept in Key Vault, referenced with the identity; returns its Container Apps name. */
  const vaultReference = (
    secretName: string,
    value: pulumi.Input<string>,
    what: string,
  ): pulumi.Output<string> => {
    if (!args.vault) throw new Error(`collectorSinks ${name}: ${what} needs the stack's Key Vault`);
    const secret = vaultSecret(
      `${name}-${secretName}`,
      args.vault,
      {
        resourceGroupName: args.resourceGroupName,
        secretName,
        value,
        contentType:
          secretName === SINK_SECRET_NAMES.syslogClientKey
            ? "application/x-pem-file"
            : "text/plain",
        ...(args.tags ? { tags: args.tags } : {}),
      },
      opts,
    );
    wiring.grants.push({
      suffix: `${secretName}-reader`,
      roleGuid: AZURE_ROLES.keyVaultSecretsUser,
      scope: secret.id,
      description: `AuditBridge collector reads the ${what}`,
    });
    const uri = secret.properties.secretUriWithVersion;
    const ref = uri.apply((u) => `${secretName}-${versionOf(u)}`);
    wiring.secrets.push({ name: ref, keyVaultUrl: uri, identity: args.identityId });
    return ref;
  };

  if (kinds.includes("logs-ingestion")) {
    if (!args.ingestion) {
      throw new Error(`collectorSinks ${name}: the logs-ingestion sink needs its ingestion target`);
    }
    wiring.env.push(
      envVar("LOGS_INGESTION_ENDPOINT", args.ingestion.endpoint),
      envVar("LOGS_INGESTION_RULE_ID", args.ingestion.ruleId),
      envVar("LOGS_INGESTION_STREAM", args.ingestion.stream),
    );
  }

  const syslog = sinks.syslog;
  if (syslog) {
    wiring.env.push(
      envVar("SYSLOG_URL", syslog.url),
      envVar("SYSLOG_FORMAT", syslog.format ?? DEFAULT_SYSLOG_FORMAT),
      envVar("SYSLOG_APP_NAME", syslog.appName ?? DEFAULT_SYSLOG_APP_NAME),
      envVar(
        "SYSLOG_MAX_MESSAGE_BYTES",
        String(syslog.maxMessageBytes ?? DEFAULT_SYSLOG_MAX_MESSAGE_BYTES),
      ),
    );
    if (syslog.caPem !== undefined) {
      wiring.env.push(
        envVar("SYSLOG_CA_FILE", plainFile("syslog-ca", syslog.caPem, "syslog-ca.pem")),
      );
    }
    if (syslog.clientCertPem !== undefined && syslog.clientKeyPem !== undefined) {
      wiring.env.push(
        envVar(
          "SYSLOG_CLIENT_CERT_FILE",
          plainFile("syslog-client-cert", syslog.clientCertPem, "syslog-client-cert.pem"),
        ),
      );
      const keyRef = vaultReference(
        SINK_SECRET_NAMES.syslogClientKey,
        syslog.clientKeyPem,
        "syslog client key",
      );
      files.push({ secretRef: keyRef, path: "syslog-client-key.pem" });
      wiring.env.push(
        envVar("SYSLOG_CLIENT_KEY_FILE", `${SINK_FILES_MOUNT_PATH}/syslog-client-key.pem`),
      );
    }
  }

  const hec = sinks.splunkHec;
  if (hec) {
    const tokenRef = vaultReference(
      SINK_SECRET_NAMES.splunkHecToken,
      hec.token,
      "Splunk HEC token",
    );
    wiring.env.push(
      envVar("SPLUNK_HEC_URL", hec.url),
      { name: "SPLUNK_HEC_TOKEN" satisfies EnvKey, secretRef: tokenRef },
      envVar("SPLUNK_HEC_SOURCETYPE", hec.sourcetype ?? DEFAULT_SPLUNK_HEC_SOURCETYPE),
      envVar("SPLUNK_HEC_ACK", String(hec.ack ?? false)),
    );
    if (hec.index !== undefined) wiring.env.push(envVar("SPLUNK_HEC_INDEX", hec.index));
    if (hec.caPem !== undefined) {
      wiring.env.push(
        envVar("SPLUNK_HEC_CA_FILE", plainFile("splunk-hec-ca", hec.caPem, "splunk-hec-ca.pem")),
      );
    }
  }

  if (files.length > 0) {
    wiring.volumes.push({ name: SINK_FILES_VOLUME, storageType: "Secret", secrets: files });
    wiring.volumeMounts.push({ volumeName: SINK_FILES_VOLUME, mountPath: SINK_FILES_MOUNT_PATH });
  }
  return wiring;
}

/**
 * The version segment of a versioned Key Vault secret URI
 * (`https://<vault>.vault.azure.net/secrets/<name>/<version>`), shortened to 12 characters:
 * enough to tell versions apart in a Container Apps secret name.
 */
function versionOf(secretUriWithVersion: string): string {
  const version = secretUriWithVersion.replace(/\/+$/, "").split("/").pop() ?? "";
  if (!/^[0-9a-f]+$/i.test(version)) {
    throw new Error(`Key Vault returned a secret URI without a version: ${secretUriWithVersion}`);
  }
  return version.slice(0, 12).toLowerCase();
}
