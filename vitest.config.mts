import { defineConfig } from "vitest/config";

// Every HTTPS test talks to the emulator with a locally generated CA. Node reads
// NODE_EXTRA_CA_CERTS only at process start, so the CA is created here, in the main
// process, before the forked test workers (which inherit the environment) start.
export default defineConfig(async () => {
  const { ensureTestCertificates, DEFAULT_TEST_CERT_DIR } = await import("./emulator/src/tls");
  const certs = await ensureTestCertificates(DEFAULT_TEST_CERT_DIR);
  process.env.NODE_EXTRA_CA_CERTS = certs.caCertPath;
  return {
    test: {
      pool: "forks",
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      env: { NODE_EXTRA_CA_CERTS: certs.caCertPath },
    },
  };
});
