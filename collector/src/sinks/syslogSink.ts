import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { readFile } from "node:fs/promises";
import { isIP, connect as netConnect, type Socket } from "node:net";
import { hostname as osHostname } from "node:os";
import { connect as tlsConnect } from "node:tls";
import { computeBackoffDelay, sleep } from "../backoff";
import type { Logger } from "../log";
import type { Batch, DeliveryOutcome, OperationOptions, Sink } from "../types";
import { encodedFor, type RecordEncoding } from "./recordEncoding";
import {
  DEFAULT_SYSLOG_APP_NAME,
  DEFAULT_SYSLOG_FORMAT,
  DEFAULT_SYSLOG_MAX_MESSAGE_BYTES,
  MAX_UDP_MESSAGE_BYTES,
  type SyslogFormat,
  type SyslogTarget,
} from "./siemSettings";
import { formatSyslogMessage } from "./syslogFormat";

/** Quick reconnects inside one `deliver` before answering `retryable` to the pipeline. */
export const DEFAULT_SYSLOG_RECONNECT_ATTEMPTS = 3;
/** First reconnect wait (full jitter, doubling), in ms. */
export const DEFAULT_SYSLOG_RECONNECT_BASE_DELAY_MS = 250;
/** Longest single reconnect wait, in ms. */
export const DEFAULT_SYSLOG_RECONNECT_MAX_DELAY_MS = 5_000;
/** Connecting (TCP + TLS handshake) gives up after this long, in ms. */
export const DEFAULT_SYSLOG_CONNECT_TIMEOUT_MS = 10_000;
/**
 * After a connection drops, messages written on it during this many ms before the drop was
 * seen are sent again on the next connection: TCP acknowledges bytes to the sender's kernel,
 * not to the receiver, so the last bytes before a receiver restart may never have been read.
 */
export const DEFAULT_SYSLOG_REPLAY_WINDOW_MS = 10_000;
/** Upper bound of that replay, in bytes (the oldest entries go first). */
export const DEFAULT_SYSLOG_REPLAY_MAX_BYTES = 16 * 1024 * 1024;

/** A message shortened to fit `maxMessageBytes` (for a counter and the log). */
export interface SyslogTruncation {
  id: string;
  contentType: string;
  originalBytes: number;
  bytes: number;
}

export interface SyslogSinkOptions {
  target: SyslogTarget;
  /** Default `cef`. */
  format?: SyslogFormat;
  /** RFC 5424 APP-NAME (default `auditbridge`). */
  appName?: string;
  /** RFC 5424 HOSTNAME (default the machine's host name). */
  hostname?: string;
  /** Longest message in bytes, header included, framing excluded (default 8192). */
  maxMessageBytes?: number;
  /** PEM file of the CA(s) that signed the receiver's certificate (TLS; default: Node's store). */
  caFile?: string;
  /** PEM client certificate for mutual TLS. */
  clientCertFile?: string;
  /** PEM private key of the client certificate (never logged). */
  clientKeyFile?: string;
  connectTimeoutInMs?: number;
  reconnectAttempts?: number;
  reconnectBaseDelayInMs?: number;
  reconnectMaxDelayInMs?: number;
  replayWindowInMs?: number;
  replayMaxBytes?: number;
  /** Called once per shortened message (the first time its batch is encoded). */
  onTruncated?: (truncation: SyslogTruncation) => void;
  /** Called with the record Ids sent again after a dropped connection. */
  onReplay?: (ids: readonly string[]) => void;
  logger?: Logger;
  /** Sink name reported to the pipeline (default `syslog`). */
  name?: string;
  /** Clock, epoch ms (tests). */
  nowMs?: () => number;
}

/** A batch as bytes on the wire: one framed buffer (TCP/TLS) or one datagram per message (UDP). */
interface Encoded {
  stream?: Buffer;
  datagrams?: Buffer[];
  ids: string[];
}

interface ReplayEntry {
  atMs: number;
  chunk: Buffer;
  ids: readonly string[];
}

interface Connection {
  socket: Socket;
  open: boolean;
  /** Rejects when the connection closes (never resolves). */
  closed: Promise<never>;
  /** Messages written on this connection, for a replay after a drop. */
  written: ReplayEntry[];
  writtenBytes: number;
}

/**
 * Sends audit records as RFC 5424 syslog messages (CEF, LEEF 2.0 or JSON; syslogFormat.ts) over
 * TCP (RFC 6587 octet counting), TLS (RFC 5425) or UDP (RFC 5426).
 *
 * Acknowledgement: a batch succeeds once the socket accepted every byte of it (the write
 * callback ran, which waits out back-pressure). Deliveries run one at a time, in order.
 *
 * Connection loss: `deliver` reconnects with full-jitter backoff a few times, then answers
 * `retryable` and the pipeline's backoff takes over; the pipeline resends the whole batch (a
 * batch cut by the drop may thus arrive twice, partly). Syslog has no application-level
 * acknowledgement, so bytes the kernel accepted in the last moments before a receiver restart
 * may never have been read: after an unexpected close the sink sends again the messages
 * written on the old connection within `replayWindowInMs` before the drop was seen (bounded
 * by `replayMaxBytes`). Those are the only repeats; every message carries the record Id.
 *
 * UDP: one datagram per message, no framing, no acknowledgement and no replay: a datagram lost
 * in the network is lost. Use it only for receivers that speak nothing else.
 */
export class SyslogSink implements Sink {
  readonly name: string;
  readonly usesParsedRecords: boolean;
  /** The parse workers format and frame each message (sinks/recordEncoding.ts). */
  readonly recordEncoding: RecordEncoding;
  private readonly target: SyslogTarget;
  private readonly format: SyslogFormat;
  private readonly appName: string;
  private readonly host: string;
  private readonly maxMessageBytes: number;
  private readonly options: SyslogSinkOptions;
  private readonly logger?: Logger;
  private readonly now: () => number;
  private tlsMaterial: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  private connection: Connection | undefined;
  private udp: UdpSocket | undefined;
  private replay: ReplayEntry[] = [];
  private readonly encoded = new WeakMap<Batch, Encoded>();
  private chain: Promise<unknown> = Promise.resolve();
  private closing = false;

  constructor(options: SyslogSinkOptions) {
    this.options = options;
    this.name = options.name ?? "syslog";
    this.target = options.target;
    this.format = options.format ?? DEFAULT_SYSLOG_FORMAT;
    this.usesParsedRecords = this.format !== "json";
    this.appName = options.appName ?? DEFAULT_SYSLOG_APP_NAME;
    this.host = options.hostname ?? osHostname();
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_SYSLOG_MAX_MESSAGE_BYTES;
    if (this.target.transport === "udp" && this.maxMessageBytes > MAX_UDP_MESSAGE_BYTES) {
      throw new Error(
        `syslog sink maxMessageBytes ${this.maxMessageBytes} does not fit one UDP datagram (at most ${MAX_UDP_MESSAGE_BYTES})`,
      );
    }
    this.logger = options.logger;
    this.now = options.nowMs ?? Date.now;
    this.recordEncoding = {
      kind: "syslog",
      format: this.format,
      hostname: this.host,
      appName: this.appName,
      maxMessageBytes: this.maxMessageBytes,
      framing: this.target.transport === "udp" ? "none" : "octet-counting",
    };
  }

  /** `udp://`, `tcp://` or `tls://` plus host and port, for logs. */
  get endpoint(): string {
    const { transport, host, port } = this.target;
    return `${transport}://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  }

  async start(_committedPosition: string | undefined, _options?: OperationOptions): Promise<void> {
    const read = async (file: string | undefined, setting: string) => {
      if (file === undefined) return undefined;
      try {
        return await readFile(file);
      } catch (error) {
        throw new Error(
          `syslog sink cannot read ${setting} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    };
    const ca = await read(this.options.caFile, "SYSLOG_CA_FILE");
    const cert = await read(this.options.clientCertFile, "SYSLOG_CLIENT_CERT_FILE");
    const key = await read(this.options.clientKeyFile, "SYSLOG_CLIENT_KEY_FILE");
    if ((cert === undefined) !== (key === undefined)) {
      throw new Error(
        "syslog sink: SYSLOG_CLIENT_CERT_FILE and SYSLOG_CLIENT_KEY_FILE go together; set both or neither",
      );
    }
    this.tlsMaterial = { ca, cert, key };
    if (this.target.transport === "udp") {
      this.logger?.warn(
        { endpoint: this.endpoint, maxMessageBytes: this.maxMessageBytes },
        "syslog over UDP: datagrams are not acknowledged, a lost datagram is lost; prefer tls:// or tcp://",
      );
    }
  }

  deliver(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome> {
    const run = this.chain.then(() => this.deliverNow(batch, options));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async deliverNow(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome> {
    const signal = options?.abortSignal;
    if (this.closing) {
      return { kind: "failure", error: new Error("syslog sink: deliver after close") };
    }
    const encoded = this.encode(batch);
    const attempts = Math.max(
      1,
      this.options.reconnectAttempts ?? DEFAULT_SYSLOG_RECONNECT_ATTEMPTS,
    );
    let lastError: Error = new Error("not sent");
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (signal?.aborted) break;
      try {
        if (this.target.transport === "udp") await this.sendDatagrams(encoded.datagrams!);
        else await this.sendStream(encoded, signal);
        return { kind: "success" };
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        const certificate = certificateProblem(lastError);
        if (certificate !== undefined) {
          return {
            kind: "failure",
            error: new Error(`syslog ${this.endpoint}: ${certificate}`, { cause: lastError }),
          };
        }
        if (signal?.aborted) break;
        if (attempt + 1 < attempts) {
          const delay = computeBackoffDelay(attempt, {
            baseDelayInMs:
              this.options.reconnectBaseDelayInMs ?? DEFAULT_SYSLOG_RECONNECT_BASE_DELAY_MS,
            maxDelayInMs:
              this.options.reconnectMaxDelayInMs ?? DEFAULT_SYSLOG_RECONNECT_MAX_DELAY_MS,
          });
          try {
            await sleep(delay, signal);
          } catch {
            break;
          }
        }
      }
    }
    return {
      kind: "retryable",
      error: new Error(`syslog ${this.endpoint}: ${lastError.message}`, { cause: lastError }),
    };
  }

  /**
   * Formats and frames a batch once; retries of the same Batch reuse it. Each record's message is
   * the one a parse worker built (`recordEncoding`), or is built here with the same code.
   */
  private encode(batch: Batch): Encoded {
    const cached = this.encoded.get(batch);
    if (cached) return cached;
    const messageOptions = {
      format: this.format,
      hostname: this.host,
      appName: this.appName,
      contentType: batch.contentType,
      maxMessageBytes: this.maxMessageBytes,
    };
    const framed = this.target.transport !== "udp";
    const ids: string[] = [];
    // Each message as sent: framed (`MSG-LEN SP MSG`) on TCP/TLS, bare for UDP.
    const messages: Uint8Array[] = [];
    let total = 0;
    for (const record of batch.records) {
      const built = encodedFor(record, this.recordEncoding);
      let message: Uint8Array;
      if (built !== undefined) {
        message = built.bytes;
        if (built.note?.kind === "truncated") {
          this.reportTruncation(
            record.id,
            batch.contentType,
            built.note.originalBytes,
            built.note.bytes,
          );
        }
      } else {
        const formatted = formatSyslogMessage(record, messageOptions);
        if (formatted.truncatedFromBytes !== undefined) {
          this.reportTruncation(
            record.id,
            batch.contentType,
            formatted.truncatedFromBytes,
            formatted.bytes,
          );
        }
        // RFC 5425 section 4.3 / RFC 6587 section 3.4.1: SYSLOG-FRAME = MSG-LEN SP SYSLOG-MSG.
        const text = framed ? `${formatted.bytes} ${formatted.text}` : formatted.text;
        message = Buffer.from(text, "utf8");
      }
      ids.push(record.id);
      messages.push(message);
      total += message.byteLength;
    }
    let encoded: Encoded;
    if (!framed) {
      encoded = {
        ids,
        datagrams: messages.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength)),
      };
    } else {
      const stream = Buffer.allocUnsafe(total);
      let offset = 0;
      for (const message of messages) {
        stream.set(message, offset);
        offset += message.byteLength;
      }
      encoded = { ids, stream };
    }
    this.encoded.set(batch, encoded);
    return encoded;
  }

  /** Counts and logs a shortened message (once per record, when its batch is first encoded). */
  private reportTruncation(
    id: string,
    contentType: string,
    originalBytes: number,
    bytes: number,
  ): void {
    const truncation = { id, contentType, originalBytes, bytes };
    this.options.onTruncated?.(truncation);
    this.logger?.warn(
      truncation,
      "syslog message shortened to SYSLOG_MAX_MESSAGE_BYTES (marked AuditBridgeTruncated)",
    );
  }

  private async sendStream(encoded: Encoded, signal?: AbortSignal): Promise<void> {
    const connection = await this.connect(signal);
    await this.write(connection, encoded.stream!);
    this.remember(connection, { atMs: this.now(), chunk: encoded.stream!, ids: encoded.ids });
  }

  /** Writes `chunk`, resolving once the socket accepted all of it; rejects if it closes first. */
  private async write(connection: Connection, chunk: Buffer): Promise<void> {
    const written = new Promise<void>((resolveWrite, rejectWrite) => {
      connection.socket.write(chunk, (error) => (error ? rejectWrite(error) : resolveWrite()));
    });
    await Promise.race([written, connection.closed]);
  }

  private remember(connection: Connection, entry: ReplayEntry): void {
    const windowMs = this.options.replayWindowInMs ?? DEFAULT_SYSLOG_REPLAY_WINDOW_MS;
    const maxBytes = this.options.replayMaxBytes ?? DEFAULT_SYSLOG_REPLAY_MAX_BYTES;
    connection.written.push(entry);
    connection.writtenBytes += entry.chunk.byteLength;
    const oldest = this.now() - windowMs;
    while (
      connection.written.length > 0 &&
      (connection.written[0]!.atMs < oldest || connection.writtenBytes > maxBytes)
    ) {
      connection.writtenBytes -= connection.written.shift()!.chunk.byteLength;
    }
  }

  /** The open connection, or a new one (which first resends the replay after a drop). */
  private async connect(signal?: AbortSignal): Promise<Connection> {
    if (this.connection?.open) return this.connection;
    const socket = await this.openSocket(signal);
    let markClosed!: (error: Error) => void;
    const closed = new Promise<never>((_, reject) => {
      markClosed = reject;
    });
    closed.catch(() => undefined);
    const connection: Connection = { socket, open: true, closed, written: [], writtenBytes: 0 };
    const onGone = (error?: Error) => {
      if (!connection.open) return;
      connection.open = false;
      if (this.connection === connection) this.connection = undefined;
      const reason = error?.message ?? "the receiver closed the connection";
      markClosed(new Error(reason));
      socket.destroy();
      if (this.closing) return;
      // Everything written shortly before the drop may be unread: keep it to send again.
      const since = this.now() - (this.options.replayWindowInMs ?? DEFAULT_SYSLOG_REPLAY_WINDOW_MS);
      const tail = connection.written.filter((entry) => entry.atMs >= since);
      this.replay.push(...tail);
      this.logger?.warn(
        { endpoint: this.endpoint, err: reason, replayMessages: countIds(tail) },
        "syslog connection lost; will reconnect and resend the messages written just before",
      );
      // Resend soon even when no new batch comes.
      if (tail.length > 0) {
        this.chain = this.chain.then(() => this.recover()).catch(() => undefined);
      }
    };
    socket.on("error", (error) => onGone(error));
    socket.on("close", () => onGone());
    socket.on("end", () => onGone());
    socket.on("data", () => undefined); // receivers send nothing; drain anything anyway
    this.connection = connection;
    if (this.replay.length > 0) {
      const replay = this.replay;
      this.replay = [];
      try {
        for (const entry of replay) {
          await this.write(connection, entry.chunk);
          this.remember(connection, { ...entry, atMs: this.now() });
        }
      } catch (error) {
        this.replay = replay;
        throw error;
      }
      const ids = replay.flatMap((entry) => entry.ids);
      this.options.onReplay?.(ids);
      this.logger?.info(
        { endpoint: this.endpoint, messages: ids.length },
        "syslog: resent the messages written just before the connection dropped",
      );
    }
    return connection;
  }

  /** Reconnects and resends the replay in the background (bounded attempts; never throws). */
  private async recover(): Promise<void> {
    const attempts = Math.max(
      1,
      this.options.reconnectAttempts ?? DEFAULT_SYSLOG_RECONNECT_ATTEMPTS,
    );
    for (
      let attempt = 0;
      attempt < attempts && !this.closing && this.replay.length > 0;
      attempt++
    ) {
      try {
        await this.connect();
        return;
      } catch {
        await sleep(
          computeBackoffDelay(attempt, {
            baseDelayInMs:
              this.options.reconnectBaseDelayInMs ?? DEFAULT_SYSLOG_RECONNECT_BASE_DELAY_MS,
            maxDelayInMs:
              this.options.reconnectMaxDelayInMs ?? DEFAULT_SYSLOG_RECONNECT_MAX_DELAY_MS,
          }),
        );
      }
    }
  }

  private openSocket(signal?: AbortSignal): Promise<Socket> {
    const { host, port, transport } = this.target;
    const timeoutMs = this.options.connectTimeoutInMs ?? DEFAULT_SYSLOG_CONNECT_TIMEOUT_MS;
    return new Promise<Socket>((resolveSocket, rejectSocket) => {
      const socket: Socket =
        transport === "tls"
          ? tlsConnect({
              host,
              port,
              ...(isIP(host) === 0 ? { servername: host } : {}),
              ...(this.tlsMaterial.ca ? { ca: this.tlsMaterial.ca } : {}),
              ...(this.tlsMaterial.cert ? { cert: this.tlsMaterial.cert } : {}),
              ...(this.tlsMaterial.key ? { key: this.tlsMaterial.key } : {}),
              minVersion: "TLSv1.2",
            })
          : netConnect({ host, port });
      const fail = (error: Error) => {
        cleanup();
        socket.destroy();
        rejectSocket(new Error(`cannot connect: ${error.message}`, { cause: error }));
      };
      const onError = (error: Error) => fail(error);
      const onAbort = () => fail(new Error("aborted"));
      const timer = setTimeout(
        () => fail(new Error(`no connection after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const cleanup = () => {
        clearTimeout(timer);
        socket.off("error", onError);
        signal?.removeEventListener("abort", onAbort);
      };
      socket.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
      socket.once(transport === "tls" ? "secureConnect" : "connect", () => {
        cleanup();
        socket.setKeepAlive(true, 30_000);
        resolveSocket(socket);
      });
    });
  }

  private async sendDatagrams(datagrams: readonly Buffer[]): Promise<void> {
    if (!this.udp) {
      const { host, port } = this.target;
      const socket = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
      await new Promise<void>((resolveConnect, rejectConnect) => {
        socket.once("error", rejectConnect);
        socket.connect(port, host, () => {
          socket.off("error", rejectConnect);
          resolveConnect();
        });
      });
      // ICMP "port unreachable" surfaces as an error on the connected socket: start afresh.
      socket.on("error", () => {
        if (this.udp === socket) this.udp = undefined;
        socket.close();
      });
      this.udp = socket;
    }
    const socket = this.udp;
    for (const datagram of datagrams) {
      await new Promise<void>((resolveSend, rejectSend) => {
        socket.send(datagram, (error) => (error ? rejectSend(error) : resolveSend()));
      }).catch((error: Error) => {
        if (this.udp === socket) this.udp = undefined;
        socket.close();
        throw error;
      });
    }
  }

  async close(): Promise<void> {
    await this.chain;
    this.closing = true;
    const connection = this.connection;
    this.connection = undefined;
    if (connection?.open) {
      connection.open = false;
      await new Promise<void>((resolveEnd) => {
        connection.socket.end(() => resolveEnd());
        connection.socket.once("close", () => resolveEnd());
      });
    }
    if (this.udp) {
      const udp = this.udp;
      this.udp = undefined;
      await new Promise<void>((resolveClose) => udp.close(() => resolveClose()));
    }
    if (this.replay.length > 0) {
      this.logger?.error(
        { endpoint: this.endpoint, messages: countIds(this.replay) },
        "syslog sink closed before it could resend the messages written just before a dropped connection",
      );
    }
  }
}

/** Node's codes for a server certificate that does not verify (retrying will not help). */
const CERTIFICATE_ERROR_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "INVALID_CA",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The fix for a receiver certificate that does not verify, or undefined for other errors. */
function certificateProblem(error: Error): string | undefined {
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !CERTIFICATE_ERROR_CODES.has(code)) return undefined;
  return code === "ERR_TLS_CERT_ALTNAME_INVALID"
    ? `the receiver's certificate does not name this host (${code}); use the host name its certificate carries in SYSLOG_URL`
    : `the receiver's certificate does not verify (${code}); set SYSLOG_CA_FILE to the CA that signed it`;
}

function countIds(entries: readonly ReplayEntry[]): number {
  let n = 0;
  for (const entry of entries) n += entry.ids.length;
  return n;
}
