/**
 * Sink settings for the Pulumi tests: real PEM certificates and an unencrypted private key
 * (generated once per test file, so the components' PEM checks see the real thing), a HEC token
 * shaped like Splunk's, and distinctive markers to search the recorded resources for.
 */
import selfsigned from "selfsigned";

/** A HEC token; tests assert it appears nowhere but in the Key Vault secret's value. */
export const HEC_TOKEN = "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";

/** PEM files a syslog-over-TLS and HEC deployment needs. */
export interface SinkPems {
  /** CA certificate of the receivers. */
  caPem: string;
  /** Client certificate for mutual TLS. */
  clientCertPem: string;
  /** Its unencrypted private key (a secret). */
  clientKeyPem: string;
}

/** Generates a CA certificate and a client certificate with its key. */
export async function makeSinkPems(): Promise<SinkPems> {
  const options = {
    keyType: "ec" as const,
    algorithm: "sha256",
    notBeforeDate: new Date("2026-01-01T00:00:00Z"),
    notAfterDate: new Date("2036-01-01T00:00:00Z"),
  };
  const ca = await selfsigned.generate([{ name: "commonName", value: "siem-test-ca" }], options);
  const client = await selfsigned.generate(
    [{ name: "commonName", value: "auditbridge-client" }],
    options,
  );
  return { caPem: ca.cert, clientCertPem: client.cert, clientKeyPem: client.private };
}
