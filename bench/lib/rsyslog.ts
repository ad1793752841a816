/**
 * A real rsyslogd on loopback, for the syslog sink tests (test/collector/sinks/) and the
 * benchmark's syslog scenarios: started in the foreground with a generated configuration in a
 * temp dir, writing every message's raw text (`%rawmsg%`) as one line to a file. Missing
 * rsyslogd is an error, never a skip: the tests exist to prove the sink against a real receiver
 * (CI installs it, see .ci/run).
 * Configuration reference: https://www.rsyslog.com/doc/configuration/modules/imtcp.html
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import selfsigned from "selfsigned";

export type Transport = "tcp" | "tls" | "udp";

/** PEM files of a test CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface TestPki {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export interface Rsyslog {
  port: number;
  dir: string;
  outFile: string;
  pki?: TestPki;
  /** Lines written so far (each a raw syslog message). */
  lines(): string[];
  stop(): Promise<void>;
  /** Stops and starts again on the same port (a receiver restart). */
  restart(): Promise<void>;
  /** Stops and removes the temp dir. */
  dispose(): Promise<void>;
}

function findRsyslogd(): string {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    const candidate = join(dir, "rsyslogd");
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  throw new Error(
    "rsyslogd is not installed; the syslog sink tests need a real receiver: run `apt-get install -y rsyslog rsyslog-gnutls` (CI does it in .ci/run)",
  );
}

async function freePort(transport: Transport): Promise<number> {
  if (transport === "udp") {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Generates a CA, a server certificate (127.0.0.1, localhost) and a client certificate. */
export async function createTestPki(dir: string): Promise<TestPki> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(Date.now() + 24 * 60 * 60 * 1000);
  const ca = await selfsigned.generate(
    [{ name: "commonName", value: "AuditBridge syslog test CA" }],
    {
      keyType: "rsa",
      keySize: 2048,
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        {
          name: "keyUsage",
          keyCertSign: true,
          cRLSign: true,
          digitalSignature: true,
          critical: true,
        },
      ],
    },
  );
  const issue = (commonName: string, usage: "serverAuth" | "clientAuth") =>
    selfsigned.generate([{ name: "commonName", value: commonName }], {
      keyType: "rsa",
      keySize: 2048,
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
        { name: "extKeyUsage", [usage]: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
          ],
        },
      ],
    });
  const server = await issue("localhost", "serverAuth");
  const client = await issue("auditbridge-collector", "clientAuth");
  const pki: TestPki = {
    caFile: join(dir, "ca.pem"),
    serverCertFile: join(dir, "server.pem"),
    serverKeyFile: join(dir, "server-key.pem"),
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client-key.pem"),
  };
  writeFileSync(pki.caFile, ca.cert);
  writeFileSync(pki.serverCertFile, server.cert);
  writeFileSync(pki.serverKeyFile, server.private, { mode: 0o600 });
  writeFileSync(pki.clientCertFile, client.cert);
  writeFileSync(pki.clientKeyFile, client.private, { mode: 0o600 });
  return pki;
}

function configFor(transport: Transport, port: number, dir: string, pki?: TestPki): string {
  const lines = [
    `global(workDirectory="${dir}" maxMessageSize="256k" parser.escapeControlCharactersOnReceive="off"${
      pki
        ? ` defaultNetstreamDriverCAFile="${pki.caFile}" defaultNetstreamDriverCertFile="${pki.serverCertFile}" defaultNetstreamDriverKeyFile="${pki.serverKeyFile}"`
        : ""
    })`,
  ];
  if (transport === "udp") {
    lines.push('module(load="imudp")');
    // A large receive buffer: UDP drops what does not fit, and the tests run beside others.
    lines.push(`input(type="imudp" address="127.0.0.1" port="${port}" rcvbufSize="8m")`);
  } else if (transport === "tcp") {
    lines.push('module(load="imtcp")');
    lines.push(`input(type="imtcp" address="127.0.0.1" port="${port}")`);
  } else {
    // Mutual TLS: the client must present a certificate signed by the test CA.
    lines.push(
      'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")',
    );
    lines.push(`input(type="imtcp" address="127.0.0.1" port="${port}")`);
  }
  lines.push('template(name="raw" type="string" string="%rawmsg%\\n")');
  lines.push(`*.* action(type="omfile" file="${join(dir, "out.log")}" template="raw")`);
  return `${lines.join("\n")}\n`;
}

/** Starts rsyslogd for one transport; resolves once it accepts messages. */
export async function startRsyslog(transport: Transport): Promise<Rsyslog> {
  const binary = findRsyslogd();
  const dir = mkdtempSync(join(tmpdir(), `auditbridge-rsyslog-${transport}-`));
  const pki = transport === "tls" ? await createTestPki(dir) : undefined;
  const port = await freePort(transport);
  const configFile = join(dir, "rsyslog.conf");
  writeFileSync(configFile, configFor(transport, port, dir, pki));
  const outFile = join(dir, "out.log");
  let child: ChildProcess | undefined;
  let stderr = "";

  const start = async () => {
    stderr = "";
    const proc = spawn(binary, ["-n", "-f", configFile, "-i", join(dir, "rsyslogd.pid")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child = proc;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) {
        throw new Error(`rsyslogd exited with ${proc.exitCode}: ${stderr.trim()}`);
      }
      if (await ready()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`rsyslogd did not accept messages on ${transport}/${port}: ${stderr.trim()}`);
  };

  // Listening is enough for TCP/TLS; UDP has no handshake, so a probe must show up in the file.
  const ready = async (): Promise<boolean> => {
    if (transport !== "udp") {
      return await new Promise<boolean>((resolve) => {
        const socket = netConnect({ host: "127.0.0.1", port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
      });
    }
    const marker = `probe-${Math.random().toString(36).slice(2)}`;
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) =>
      socket.send(`<13>1 - - probe - - - ${marker}`, port, "127.0.0.1", () => resolve()),
    );
    socket.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return existsSync(outFile) && readFileSync(outFile, "utf8").includes(marker);
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  };

  await start();
  return {
    port,
    dir,
    outFile,
    ...(pki ? { pki } : {}),
    lines: () =>
      existsSync(outFile)
        ? readFileSync(outFile, "utf8")
            .split("\n")
            .filter((line) => line !== "")
        : [],
    stop,
    async restart() {
      await stop();
      await start();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
