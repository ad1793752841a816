/**
 * The published package: what `npm pack` puts in the tarball, what its manifest points at, and
 * that importing it (from a project outside the repository, as a consumer does) registers no
 * resource and reads no stack config.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { installMocks, type Recorder, settle } from "../pulumi/mocks";
import {
  consumerProject,
  type PackResult,
  PEERS,
  packedPackage,
  REPO,
  removeConsumerProjects,
} from "./consumer";

afterAll(removeConsumerProjects);

let pack: PackResult;
let project: string;

beforeAll(() => {
  pack = packedPackage();
  project = consumerProject(pack, "import");
}, 240_000);

interface Manifest {
  name: string;
  private?: boolean;
  main: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
  files: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

describe("the tarball", () => {
  it("holds the compiled entry, its declarations and the modules it loads", () => {
    expect(pack.files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "LICENSE",
        "dist/components/index.js",
        "dist/components/index.d.ts",
        "dist/components/tenantAuditPipeline.js",
        "dist/components/tenantAuditPipeline.d.ts",
        "dist/components/sentinel/officeActivityFunction.js",
        "dist/domain/table.js",
      ]),
    );
    // Every compiled module comes with its declarations.
    const js = pack.files.filter((f) => f.endsWith(".js"));
    expect(js.length).toBeGreaterThan(20);
    for (const file of js) expect(pack.files).toContain(file.replace(/\.js$/, ".d.ts"));
  });

  it("holds nothing a consumer does not need", () => {
    const unwanted = pack.files.filter(
      (f) =>
        /^(test|emulator|bench|scripts|stacks|collector|docs|examples|components|domain)\//.test(
          f,
        ) ||
        (f.endsWith(".ts") && !f.endsWith(".d.ts")) ||
        f.endsWith(".map") ||
        /Pulumi\..*\.ya?ml$|\.auditbridge|\.db$|\.sqlite|state|\.log$/.test(f) ||
        f === "package-lock.json" ||
        f.startsWith("tsconfig"),
    );
    expect(unwanted).toEqual([]);
    expect(pack.files.every((f) => f.startsWith("dist/") || !f.includes("/"))).toBe(true);
  });

  it("has a public manifest pointing at dist, with the Pulumi packages as peers", () => {
    const manifest = JSON.parse(
      readFileSync(path.join(project, "node_modules", "auditbridge", "package.json"), "utf8"),
    ) as Manifest;
    expect(manifest.name).toBe("auditbridge");
    expect(manifest.private).toBeUndefined();
    expect(manifest.main).toBe("dist/components/index.js");
    expect(manifest.types).toBe("dist/components/index.d.ts");
    expect(manifest.exports["."]).toEqual({
      types: "./dist/components/index.d.ts",
      default: "./dist/components/index.js",
    });
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual([...PEERS].sort());
    // Only enableAuditLogging needs @azure/identity (at deploy time), so it is an optional peer.
    expect(manifest.peerDependenciesMeta).toEqual({ "@azure/identity": { optional: true } });
    // A consumer installs nothing else: no second copy of the Pulumi SDK, no repository tooling.
    expect(manifest.dependencies ?? {}).toEqual({});
    // The peer ranges admit the versions this repository tests with.
    const devDependencies = manifest.devDependencies ?? {};
    for (const peer of PEERS) {
      expect(manifest.peerDependencies[peer]).toBe(`^${devDependencies[peer]}`);
    }
  });
});

describe("importing the package", () => {
  let recorder: Recorder;
  let entry: Record<string, unknown>;
  const configReads: unknown[][] = [];

  beforeAll(async () => {
    recorder = await installMocks("dev", "consumer");
    const consumerRequire = createRequire(path.join(project, "index.js"));
    // The very runtime module the package's @pulumi/pulumi reads config through.
    const runtimeConfig = consumerRequire("@pulumi/pulumi/runtime/config") as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    for (const fn of ["getConfig", "allConfig"]) {
      vi.spyOn(runtimeConfig, fn).mockImplementation((...args: unknown[]) => {
        configReads.push([fn, ...args]);
        return undefined;
      });
    }
    entry = consumerRequire("auditbridge") as Record<string, unknown>;
    await settle();
  });

  it("loads from the temporary project, not from the repository's sources", () => {
    const resolved = createRequire(path.join(project, "index.js")).resolve("auditbridge");
    expect(resolved.startsWith(path.join(project, "node_modules", "auditbridge", "dist"))).toBe(
      true,
    );
    expect(resolved.startsWith(REPO)).toBe(false);
  });

  it("registers no resource and reads no config", () => {
    expect(recorder.resources).toEqual([]);
    expect(configReads).toEqual([]);
  });

  it("exports the components, their validators and the naming helpers", () => {
    for (const component of [
      "TenantAuditPipeline",
      "AuditReaderApp",
      "LogAnalyticsDestination",
      "CollectorService",
      "SentinelContent",
    ]) {
      const value = entry[component] as { prototype: unknown } | undefined;
      expect(typeof value, component).toBe("function");
      expect(value!.prototype instanceof pulumi.ComponentResource, component).toBe(true);
    }
    for (const fn of ["tagsProblem", "namePrefixProblem", "tableNameProblem", "applyNaming"]) {
      expect(typeof entry[fn], fn).toBe("function");
    }
    expect((entry.namePrefixProblem as (p: string) => string | undefined)("Bad!")).toBeTypeOf(
      "string",
    );
  });

  it("would have seen a registration and a config read (the checks above can fail)", async () => {
    new pulumi.Config("consumer").get("anything");
    expect(configReads.length).toBe(1);
    configReads.length = 0;
    const Destination =
      entry.LogAnalyticsDestination as typeof import("../../components").LogAnalyticsDestination;
    new Destination("probe", {
      resourceGroupName: "rg",
      location: "westeurope",
      workspace: { kind: "new", name: "log-probe", retentionInDays: 30 },
      dataCollectionEndpointName: "dce-probe",
      dataCollectionRuleName: "dcr-probe",
      publisherPrincipalId: "00000000-0000-0000-0000-000000000001",
    });
    await settle();
    expect(recorder.resources.length).toBeGreaterThan(0);
  });
});
