/**
 * Pure parsers for the syslog and Splunk HEC sink settings. Each returns a typed value or a
 * problem phrase (no `process.env`, no I/O): the collector's settings table names the variable
 * and wraps the phrase into its one-line error, and the Pulumi stack config and components check
 * the same values with the same rules before anything is deployed.
 */
import { isIP } from "node:net";

/** A parsed value, or a phrase saying what is wrong with it. */
export type SettingResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Syslog transports: RFC 6587 TCP, RFC 5425 TLS, RFC 5426 UDP. */
export type SyslogTransport = "tcp" | "tls" | "udp";

/** Where the syslog sink sends. */
export interface SyslogTarget {
  transport: SyslogTransport;
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
}

/** Message formats of the syslog sink. */
export const SYSLOG_FORMATS = ["cef", "leef", "json"] as const;
export type SyslogFormat = (typeof SYSLOG_FORMATS)[number];

/** RFC 5425 section 4.1: syslog over TLS listens on port 6514. https://www.rfc-editor.org/rfc/rfc5425 */
export const SYSLOG_TLS_DEFAULT_PORT = 6514;
/** The traditional syslog port (RFC 5426 for UDP); also what most receivers use for plain TCP. */
export const SYSLOG_DEFAULT_PORT = 514;
/** Default `SYSLOG_APP_NAME`. */
export const DEFAULT_SYSLOG_APP_NAME = "auditbridge";
/** Default `SYSLOG_FORMAT`. */
export const DEFAULT_SYSLOG_FORMAT: SyslogFormat = "cef";
/**
 * Default `SYSLOG_MAX_MESSAGE_BYTES`: RFC 5425 receivers SHOULD accept 8192 octets
 * (https://www.rfc-editor.org/rfc/rfc5425 section 4.3.1), and rsyslog's default limit is 8 KB.
 */
export const DEFAULT_SYSLOG_MAX_MESSAGE_BYTES = 8192;
/** Smallest accepted limit: a CEF/LEEF header plus Id, time and Operation must always fit. */
export const MIN_SYSLOG_MAX_MESSAGE_BYTES = 1024;
/** Largest UDP payload over IPv4 (65,535 − 8 UDP − 20 IP header bytes). */
export const MAX_UDP_MESSAGE_BYTES = 65_507;
/** Largest limit accepted for TCP/TLS (rsyslog and syslog-ng accept raising theirs this far). */
export const MAX_SYSLOG_MESSAGE_BYTES = 1024 * 1024;
/** Default `SPLUNK_HEC_SOURCETYPE`: the Splunk Add-on for Microsoft Office 365's sourcetype. */
export const DEFAULT_SPLUNK_HEC_SOURCETYPE = "o365:management:activity";

/**
 * Parses `SYSLOG_URL`: `tcp://host:port`, `tls://host[:port]` (default 6514) or
 * `udp://host[:port]` (default 514). IPv6 hosts go in brackets (`tls://[2001:db8::1]:6514`).
 */
export function parseSyslogUrl(value: string): SettingResult<SyslogTarget> {
  const text = value.trim();
  const match = /^([a-z]+):\/\/(\[[^\]]+\]|[^:/?#[\]]+)(?::(\d+))?\/?$/i.exec(text);
  if (!match) {
    return {
      ok: false,
      problem: `"${value}" is not tcp://host:port, tls://host:port or udp://host:port`,
    };
  }
  const scheme = match[1]!.toLowerCase();
  if (scheme !== "tcp" && scheme !== "tls" && scheme !== "udp") {
    return { ok: false, problem: `scheme "${scheme}" is not supported; use tcp, tls or udp` };
  }
  let host = match[2]!;
  if (host.startsWith("[")) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return { ok: false, problem: `"${host}" is not an IPv6 address` };
  }
  let port: number;
  if (match[3] === undefined) {
    if (scheme === "tcp") {
      return { ok: false, problem: "tcp:// needs a port (receivers differ: 514, 601, 1514…)" };
    }
    port = scheme === "tls" ? SYSLOG_TLS_DEFAULT_PORT : SYSLOG_DEFAULT_PORT;
  } else {
    port = Number(match[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      return { ok: false, problem: `port ${match[3]} is not between 1 and 65535` };
    }
  }
  return { ok: true, value: { transport: scheme, host, port } };
}

/** Parses `SYSLOG_FORMAT` (case-insensitive): cef, leef or json. */
export function parseSyslogFormat(value: string): SettingResult<SyslogFormat> {
  const lower = value.trim().toLowerCase();
  return (SYSLOG_FORMATS as readonly string[]).includes(lower)
    ? { ok: true, value: lower as SyslogFormat }
    : { ok: false, problem: `"${value}" is not one of ${SYSLOG_FORMATS.join(", ")}` };
}

/**
 * Parses `SYSLOG_APP_NAME`: RFC 5424 APP-NAME is 1–48 printable US-ASCII characters without
 * spaces (https://www.rfc-editor.org/rfc/rfc5424 section 6.2.5).
 */
export function parseSyslogAppName(value: string): SettingResult<string> {
  return /^[\x21-\x7e]{1,48}$/.test(value) && value !== "-"
    ? { ok: true, value }
    : { ok: false, problem: `"${value}" is not 1 to 48 printable ASCII characters without spaces` };
}

/**
 * Parses `SYSLOG_MAX_MESSAGE_BYTES` for a transport: at least 1024; at most 65,507 over UDP
 * (one datagram) and 1 MiB otherwise.
 */
export function parseSyslogMaxMessageBytes(
  value: string,
  transport: SyslogTransport,
): SettingResult<number> {
  const n = Number(value.trim());
  const max = transport === "udp" ? MAX_UDP_MESSAGE_BYTES : MAX_SYSLOG_MESSAGE_BYTES;
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    return { ok: false, problem: `"${value}" is not a whole number of bytes` };
  }
  if (n < MIN_SYSLOG_MAX_MESSAGE_BYTES || n > max) {
    return {
      ok: false,
      problem: `${n} is not between ${MIN_SYSLOG_MAX_MESSAGE_BYTES} and ${max}${transport === "udp" ? " (one UDP datagram)" : ""}`,
    };
  }
  return { ok: true, value: n };
}

/**
 * Parses `SPLUNK_HEC_URL`: an http(s) base URL without query (e.g.
 * `https://splunk.example.com:8088`); a path ending in `/services/collector[/event]` is cut off,
 * since the sink adds the endpoint paths itself.
 */
export function parseSplunkHecUrl(value: string): SettingResult<URL> {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return { ok: false, problem: `"${value}" is not a URL like https://splunk.example.com:8088` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, problem: `scheme "${url.protocol}" is not https: or http:` };
  }
  if (url.username || url.password) {
    return { ok: false, problem: "the URL must not carry credentials; set SPLUNK_HEC_TOKEN" };
  }
  if (url.search || url.hash) return { ok: false, problem: "the URL must not have a query" };
  url.pathname = url.pathname.replace(/\/services\/collector(\/event(\/1\.0)?)?\/?$/, "");
  url.pathname = url.pathname.replace(/\/+$/, "");
  return { ok: true, value: url };
}

/**
 * Parses `SPLUNK_HEC_TOKEN`: the token's GUID as shown in Splunk Web. The phrase never repeats
 * the value (it is a secret).
 */
export function parseSplunkHecToken(value: string): SettingResult<string> {
  const token = value.trim();
  if (token === "") return { ok: false, problem: "the token is empty" };
  if (/\s/.test(token) || hasControlCharacter(token)) {
    return { ok: false, problem: "the token contains spaces or control characters" };
  }
  return { ok: true, value: token };
}

/**
 * Parses `SPLUNK_HEC_INDEX`: Splunk index names are lower-case letters, digits, `_` and `-`,
 * not starting with `_` or `-` for user indexes (https://docs.splunk.com/Documentation/Splunk/latest/Indexer/Setupmultipleindexes).
 */
export function parseSplunkIndex(value: string): SettingResult<string> {
  const index = value.trim();
  return /^[a-z0-9][a-z0-9_-]{0,79}$/.test(index)
    ? { ok: true, value: index }
    : {
        ok: false,
        problem: `"${value}" is not an index name (lower-case letters, digits, _ and -)`,
      };
}

/** Parses `SPLUNK_HEC_SOURCETYPE`: any non-empty text without control characters. */
export function parseSplunkSourcetype(value: string): SettingResult<string> {
  const sourcetype = value.trim();
  return sourcetype !== "" && !hasControlCharacter(sourcetype)
    ? { ok: true, value: sourcetype }
    : { ok: false, problem: `"${value}" is empty or contains control characters` };
}

/** Parses `SPLUNK_HEC_ACK`: true/false, yes/no, 1/0 (case-insensitive). */
export function parseBooleanSetting(value: string): SettingResult<boolean> {
  const lower = value.trim().toLowerCase();
  if (["true", "yes", "1", "on"].includes(lower)) return { ok: true, value: true };
  if (["false", "no", "0", "off"].includes(lower)) return { ok: true, value: false };
  return { ok: false, problem: `"${value}" is not true or false` };
}

/** True when `value` holds a C0 control character (tab, newline, NUL…). */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}

/** The syslog settings as the environment gives them (unset = undefined). */
export interface SyslogSettingsInput {
  SYSLOG_URL?: string;
  SYSLOG_FORMAT?: string;
  SYSLOG_APP_NAME?: string;
  SYSLOG_CA_FILE?: string;
  SYSLOG_CLIENT_CERT_FILE?: string;
  SYSLOG_CLIENT_KEY_FILE?: string;
  SYSLOG_MAX_MESSAGE_BYTES?: string;
}

/** Validated syslog settings: exactly the typed options `createSink("syslog", …)` takes. */
export interface SyslogSettings {
  target: SyslogTarget;
  format: SyslogFormat;
  appName: string;
  maxMessageBytes: number;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}

/**
 * Checks the syslog settings together (the size limit depends on the transport; a client
 * certificate needs its key; TLS files need tls://). The problem is one line naming the variable.
 */
export function resolveSyslogSettings(input: SyslogSettingsInput): SettingResult<SyslogSettings> {
  if (input.SYSLOG_URL === undefined || input.SYSLOG_URL.trim() === "") {
    return {
      ok: false,
      problem: "SYSLOG_URL is required with AUDIT_SINK=syslog (e.g. tls://siem.example.com:6514)",
    };
  }
  const url = parseSyslogUrl(input.SYSLOG_URL);
  if (!url.ok) return { ok: false, problem: `SYSLOG_URL ${url.problem}` };
  const format = parseSyslogFormat(input.SYSLOG_FORMAT ?? DEFAULT_SYSLOG_FORMAT);
  if (!format.ok) return { ok: false, problem: `SYSLOG_FORMAT ${format.problem}` };
  const appName = parseSyslogAppName(input.SYSLOG_APP_NAME ?? DEFAULT_SYSLOG_APP_NAME);
  if (!appName.ok) return { ok: false, problem: `SYSLOG_APP_NAME ${appName.problem}` };
  const max = parseSyslogMaxMessageBytes(
    input.SYSLOG_MAX_MESSAGE_BYTES ?? String(DEFAULT_SYSLOG_MAX_MESSAGE_BYTES),
    url.value.transport,
  );
  if (!max.ok) return { ok: false, problem: `SYSLOG_MAX_MESSAGE_BYTES ${max.problem}` };
  const files = {
    caFile: input.SYSLOG_CA_FILE,
    clientCertFile: input.SYSLOG_CLIENT_CERT_FILE,
    clientKeyFile: input.SYSLOG_CLIENT_KEY_FILE,
  };
  if ((files.clientCertFile === undefined) !== (files.clientKeyFile === undefined)) {
    return {
      ok: false,
      problem:
        "SYSLOG_CLIENT_CERT_FILE and SYSLOG_CLIENT_KEY_FILE go together; set both or neither",
    };
  }
  if (url.value.transport !== "tls" && Object.values(files).some((f) => f !== undefined)) {
    return {
      ok: false,
      problem:
        "SYSLOG_CA_FILE and SYSLOG_CLIENT_*_FILE apply to tls:// only; use a tls:// SYSLOG_URL or unset them",
    };
  }
  return {
    ok: true,
    value: {
      target: url.value,
      format: format.value,
      appName: appName.value,
      maxMessageBytes: max.value,
      ...(files.caFile !== undefined ? { caFile: files.caFile } : {}),
      ...(files.clientCertFile !== undefined ? { clientCertFile: files.clientCertFile } : {}),
      ...(files.clientKeyFile !== undefined ? { clientKeyFile: files.clientKeyFile } : {}),
    },
  };
}

/** The Splunk HEC settings as the environment gives them (unset = undefined). */
export interface SplunkHecSettingsInput {
  SPLUNK_HEC_URL?: string;
  SPLUNK_HEC_TOKEN?: string;
  SPLUNK_HEC_INDEX?: string;
  SPLUNK_HEC_SOURCETYPE?: string;
  SPLUNK_HEC_CA_FILE?: string;
  SPLUNK_HEC_ACK?: string;
}

/** Validated Splunk HEC settings: the typed options `createSink("splunk-hec", …)` takes. */
export interface SplunkHecSettings {
  url: URL;
  token: string;
  sourcetype: string;
  ack: boolean;
  index?: string;
  caFile?: string;
}

/** Checks the Splunk HEC settings together; problems never contain the token. */
export function resolveSplunkHecSettings(
  input: SplunkHecSettingsInput,
): SettingResult<SplunkHecSettings> {
  if (input.SPLUNK_HEC_URL === undefined || input.SPLUNK_HEC_URL.trim() === "") {
    return {
      ok: false,
      problem:
        "SPLUNK_HEC_URL is required with AUDIT_SINK=splunk-hec (e.g. https://splunk.example.com:8088)",
    };
  }
  const url = parseSplunkHecUrl(input.SPLUNK_HEC_URL);
  if (!url.ok) return { ok: false, problem: `SPLUNK_HEC_URL ${url.problem}` };
  if (input.SPLUNK_HEC_TOKEN === undefined) {
    return {
      ok: false,
      problem:
        "SPLUNK_HEC_TOKEN is required with AUDIT_SINK=splunk-hec (set it in the environment)",
    };
  }
  const token = parseSplunkHecToken(input.SPLUNK_HEC_TOKEN);
  if (!token.ok) return { ok: false, problem: `SPLUNK_HEC_TOKEN is invalid: ${token.problem}` };
  let index: string | undefined;
  if (input.SPLUNK_HEC_INDEX !== undefined && input.SPLUNK_HEC_INDEX.trim() !== "") {
    const parsed = parseSplunkIndex(input.SPLUNK_HEC_INDEX);
    if (!parsed.ok) return { ok: false, problem: `SPLUNK_HEC_INDEX ${parsed.problem}` };
    index = parsed.value;
  }
  const sourcetype = parseSplunkSourcetype(
    input.SPLUNK_HEC_SOURCETYPE ?? DEFAULT_SPLUNK_HEC_SOURCETYPE,
  );
  if (!sourcetype.ok) return { ok: false, problem: `SPLUNK_HEC_SOURCETYPE ${sourcetype.problem}` };
  const ack = parseBooleanSetting(input.SPLUNK_HEC_ACK ?? "false");
  if (!ack.ok) return { ok: false, problem: `SPLUNK_HEC_ACK ${ack.problem}` };
  return {
    ok: true,
    value: {
      url: url.value,
      token: token.value,
      sourcetype: sourcetype.value,
      ack: ack.value,
      ...(index !== undefined ? { index } : {}),
      ...(input.SPLUNK_HEC_CA_FILE !== undefined ? { caFile: input.SPLUNK_HEC_CA_FILE } : {}),
    },
  };
}
