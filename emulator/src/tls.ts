import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import selfsigned from "selfsigned";

/** Where tests and `npm start` keep the generated CA (git-ignored). */
export const DEFAULT_TEST_CERT_DIR = path.resolve(__dirname, "..", "..", ".auditbridge", "test-ca");

/** Lifetime of generated certificates; long enough that a checkout never sees them expire mid-run. */
const CERT_LIFETIME_MS = 825 * 24 * 60 * 60 * 1000;
/** Regenerate when less than this is left. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export interface TestCertificates {
  /** PEM file of the CA; point NODE_EXTRA_CA_CERTS at it. */
  caCertPath: string;
  /** Server certificate (PEM) for localhost / 127.0.0.1 / ::1, signed by the CA. */
  cert: string;
  /** Server private key (PEM). */
  key: string;
}

interface StoredCertificates {
  notAfterMs: number;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

/**
 * Returns a local CA and a loopback server certificate, creating them in `dir` on first use and
 * reusing them afterwards (so a server starts in milliseconds). Safe to call concurrently: files
 * are written atomically and a concurrent writer produces an equally valid pair.
 */
export async function ensureTestCertificates(
  dir: string = DEFAULT_TEST_CERT_DIR,
): Promise<TestCertificates> {
  const bundlePath = path.join(dir, "bundle.json");
  const caCertPath = path.join(dir, "ca.pem");
  let stored: StoredCertificates | undefined;
  try {
    stored = JSON.parse(await readFile(bundlePath, "utf8")) as StoredCertificates;
    await readFile(caCertPath, "utf8");
    if (stored.notAfterMs - Date.now() < RENEW_BEFORE_MS) stored = undefined;
  } catch {
    stored = undefined;
  }
  if (!stored) {
    stored = await generate();
    await mkdir(dir, { recursive: true });
    await atomicWrite(caCertPath, stored.caCert);
    await atomicWrite(bundlePath, JSON.stringify(stored));
  }
  return { caCertPath, cert: stored.cert, key: stored.key };
}

async function generate(): Promise<StoredCertificates> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + CERT_LIFETIME_MS);
  const ca = await selfsigned.generate([{ name: "commonName", value: "AuditBridge Emulator CA" }], {
    keyType: "ec",
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
  });
  const server = await selfsigned.generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return {
    notAfterMs: notAfterDate.getTime(),
    caCert: ca.cert,
    caKey: ca.private,
    cert: server.cert,
    key: server.private,
  };
}

async function atomicWrite(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, file);
}
