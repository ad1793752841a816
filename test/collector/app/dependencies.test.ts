/**
 * The collector image installs collector/package.json's `dependencies` and nothing else (see
 * collector/Dockerfile). These tests keep that list equal to what the compiled collector
 * actually requires, so a package the collector stops using leaves the image and a new import
 * cannot ship without its package; and they keep its versions the ones the repository's single
 * lockfile installs for development and tests.
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(__dirname, "../../..");

interface Manifest {
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface Lockfile {
  packages: Record<string, { version?: string; link?: boolean; resolved?: string }>;
}

function readJson<T>(...segments: string[]): T {
  return JSON.parse(readFileSync(path.join(REPO, ...segments), "utf8")) as T;
}

const root = readJson<Manifest>("package.json");
const collector = readJson<Manifest>("collector", "package.json");
const lock = readJson<Lockfile>("package-lock.json");
const dependencies = Object.keys(collector.dependencies ?? {});
const devDependencies = Object.keys(collector.devDependencies ?? {});

/** The package a module specifier loads: `@scope/name/sub` -> `@scope/name`; null for files and Node built-ins. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || path.isAbsolute(specifier)) return null;
  if (specifier.startsWith("node:") || builtinModules.includes(specifier)) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The image's compile step (collector/tsconfig.build.json): its compiler options and root files. */
function buildConfig(): ts.ParsedCommandLine {
  const configPath = path.join(REPO, "collector", "tsconfig.build.json");
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configPath));
}

const build = buildConfig();

/** Every repository file the image compiles: the build's root files and the files they import. */
function compiledFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const queue = build.fileNames.map((file) => path.resolve(file));
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    const text = readFileSync(file, "utf8");
    files.set(file, text);
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const resolved = ts.resolveModuleName(fileName, file, build.options, ts.sys).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport) queue.push(resolved.resolvedFileName);
    }
  }
  return files;
}

const compiled = compiledFiles();

function addTo(found: Map<string, string[]>, name: string, file: string): void {
  found.set(name, [...(found.get(name) ?? []), path.relative(REPO, file)]);
}

/** Packages named by `import`, `export … from`, `require()` and `import()` in the sources, type-only imports included. */
function sourceImports(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [file, text] of compiled) {
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      const name = packageOf(fileName);
      if (name) addTo(found, name, file);
    }
  }
  return found;
}

/**
 * Packages the emitted JavaScript requires: what the image must contain. The compiler drops
 * imports used only as types, so this is the runtime set. (`require.resolve("tsx/…")` in
 * collector/src/threads.ts is not a `require(` call: it only runs from TypeScript sources.)
 */
function runtimeRequires(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [file, text] of compiled) {
    const { outputText } = ts.transpileModule(text, {
      compilerOptions: build.options,
      fileName: file,
    });
    for (const match of outputText.matchAll(/\brequire\((["'])([^"']+)\1\)/g)) {
      const name = packageOf(match[2]!);
      if (name) addTo(found, name, file);
    }
  }
  return found;
}

describe("collector/package.json", () => {
  it("is the root's one npm workspace, linked in the lockfile", () => {
    expect(root.workspaces).toEqual(["collector"]);
    expect(lock.packages["node_modules/@auditbridge/collector"]).toMatchObject({
      resolved: "collector",
      link: true,
    });
  });

  it("lists as dependencies exactly the packages the compiled collector and domain/ require", () => {
    const relative = [...compiled.keys()].map((file) => path.relative(REPO, file));
    // The scan covers what the image compiles: the entry point and the shared domain module.
    expect(relative).toContain(path.join("collector", "src", "main.ts"));
    expect(relative).toContain(path.join("domain", "index.ts"));
    expect(new Set(relative.map((file) => file.split(path.sep)[0]))).toEqual(
      new Set(["collector", "domain"]),
    );

    const required = runtimeRequires();
    expect({
      installedButNotRequired: dependencies.filter((name) => !required.has(name)),
      requiredButNotInstalled: [...required].filter(([name]) => !dependencies.includes(name)),
    }).toEqual({ installedButNotRequired: [], requiredButNotInstalled: [] });
  });

  it("keeps devDependencies to the compiler, Node's and the dependencies' types and type-only imports", () => {
    const imported = sourceImports();
    const declared = new Set([...dependencies, ...devDependencies]);
    expect([...imported].filter(([name]) => !declared.has(name))).toEqual([]);
    const unexplained = devDependencies.filter(
      (name) =>
        name !== "typescript" &&
        name !== "@types/node" &&
        !dependencies.some((dependency) => name === `@types/${dependency}`) &&
        !imported.has(name),
    );
    expect(unexplained).toEqual([]);
    expect(devDependencies.filter((name) => dependencies.includes(name))).toEqual([]);
  });

  it("pins each package to the one version the root lockfile installs for everything else", () => {
    const pinned = { ...collector.devDependencies, ...collector.dependencies };
    const rootPinned = { ...root.devDependencies, ...root.dependencies };
    for (const [name, version] of Object.entries(pinned)) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
      // One hoisted copy shared by development, tests and the image; no collector-only copy.
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
      expect(lock.packages[`collector/node_modules/${name}`], name).toBeUndefined();
      if (name in rootPinned) expect(rootPinned[name], name).toBe(version);
    }
  });
});
