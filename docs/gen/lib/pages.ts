/**
 * The contract between `npm run docs`, the staleness test and the page modules: every `.ts`
 * file directly in docs/gen except write.ts is one page. It exports `PAGE_PATH`
 * (repository-relative, e.g. "docs/table.md") and `render()`, which returns the page's whole text.
 * A module that also exports `REGION` owns only a marked part of a hand-written page (README.md
 * or a page under docs/): the lines between `<!-- generated:REGION -->` and
 * `<!-- end generated:REGION -->`, which `render()` returns.
 * A new page needs only a new module there; both the writer and the test find it by listing the
 * folder.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** What every page module in docs/gen exports. */
export interface GeneratedPage {
  /** The page's path relative to the repository root, under docs/ and ending in `.md`. */
  readonly PAGE_PATH: string;
  /** The page's full text (or the region's lines), ending in a newline. */
  render(): string;
  /** Set for a module that owns one marked region of a hand-written page. */
  readonly REGION?: string;
}

/** A page module together with the file it was loaded from (for messages). */
export interface LoadedPage extends GeneratedPage {
  /** The module, repository-relative (e.g. "docs/gen/tableFields.ts"). */
  readonly modulePath: string;
}

/** The folder holding the page modules. */
export const GEN_DIR = path.resolve(__dirname, "..");

/** The repository root. */
export const REPO_ROOT = path.resolve(GEN_DIR, "..", "..");

/** The command that rewrites every generated page; messages name it. */
export const WRITE_COMMAND = "npm run docs";

/** The writer's own file, the one `.ts` file in docs/gen that is not a page. */
const WRITER_FILE = "write.ts";

/** The page modules: every `.ts` file directly in docs/gen except the writer, in name order. */
export function pageModuleFiles(): string[] {
  return readdirSync(GEN_DIR, { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isFile() &&
        entry.name.endsWith(".ts") &&
        !entry.name.endsWith(".d.ts") &&
        entry.name !== WRITER_FILE,
    )
    .map((entry) => entry.name)
    .sort()
    .map((name) => path.join(GEN_DIR, name));
}

function isGeneratedPage(value: unknown): value is GeneratedPage {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Record<keyof GeneratedPage, unknown>>;
  return (
    typeof candidate.PAGE_PATH === "string" &&
    typeof candidate.render === "function" &&
    (candidate.REGION === undefined || typeof candidate.REGION === "string")
  );
}

/** Pages outside docs/ that a region module may write into. */
const REGION_ONLY_PAGES = new Set(["README.md"]);

/**
 * Imports every page module and checks the contract: `PAGE_PATH` under docs/ ending in `.md`,
 * `render` a function, no two modules writing one page. Throws a one-line error naming the
 * module otherwise.
 */
export async function loadPages(): Promise<LoadedPage[]> {
  const pages: LoadedPage[] = [];
  const owners = new Map<string, string>();
  for (const file of pageModuleFiles()) {
    const modulePath = path.relative(REPO_ROOT, file).split(path.sep).join("/");
    const loaded: unknown = await import(file);
    if (!isGeneratedPage(loaded)) {
      throw new Error(
        `${modulePath} must export PAGE_PATH (a string) and render() (the page's text): every .ts file in docs/gen except ${WRITER_FILE} is a page`,
      );
    }
    const pagePath = loaded.PAGE_PATH;
    const region = loaded.REGION;
    const underDocs =
      pagePath.startsWith("docs/") &&
      pagePath.endsWith(".md") &&
      !pagePath.split("/").includes("..");
    if (!underDocs && !(region !== undefined && REGION_ONLY_PAGES.has(pagePath))) {
      throw new Error(
        `${modulePath}: PAGE_PATH must be a repository-relative path under docs/ ending in .md, or README.md for a REGION (got "${pagePath}")`,
      );
    }
    if (region !== undefined && !/^[a-z][a-z0-9-]*$/.test(region)) {
      throw new Error(
        `${modulePath}: REGION must be lowercase letters, digits and dashes (got "${region}")`,
      );
    }
    const key = region === undefined ? pagePath : `${pagePath}#${region}`;
    const owner = owners.get(key) ?? owners.get(pagePath);
    if (
      owner !== undefined ||
      (region === undefined && [...owners.keys()].some((k) => k.startsWith(`${pagePath}#`)))
    ) {
      throw new Error(
        `${modulePath} and ${owner ?? "a region module"} both write ${key}: one module per page or region`,
      );
    }
    owners.set(key, modulePath);
    pages.push({
      PAGE_PATH: pagePath,
      render: () => loaded.render(),
      modulePath,
      ...(region === undefined ? {} : { REGION: region }),
    });
  }
  return pages;
}

/** The markers around a region, each on a line of its own. */
export function regionMarkers(region: string): { begin: string; end: string } {
  return { begin: `<!-- generated:${region} -->`, end: `<!-- end generated:${region} -->` };
}

/**
 * The file's whole text as the module renders it: the page itself, or for a region module the
 * committed file (`current`) with the region's lines replaced. Throws a one-line error when a
 * region's markers are missing.
 */
export function pageText(page: LoadedPage, current: string | undefined): string {
  const rendered = renderPage(page);
  if (page.REGION === undefined) return rendered;
  const { begin, end } = regionMarkers(page.REGION);
  const start = current?.indexOf(`${begin}\n`) ?? -1;
  const stop = current?.indexOf(`${end}\n`, start) ?? -1;
  if (current === undefined || start < 0 || stop < 0) {
    throw new Error(
      `${page.PAGE_PATH} must hold the lines "${begin}" and "${end}" for ${page.modulePath}`,
    );
  }
  return `${current.slice(0, start + begin.length + 1)}${rendered}${current.slice(stop)}`;
}

/** The committed text of a page, or undefined when the file does not exist. */
export function committedText(page: GeneratedPage): string | undefined {
  const file = path.join(REPO_ROOT, page.PAGE_PATH);
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

/** Renders a page and checks that it is text ending in exactly one newline. */
export function renderPage(page: LoadedPage): string {
  const text = page.render();
  if (typeof text !== "string" || !text.endsWith("\n") || text.endsWith("\n\n")) {
    throw new Error(
      `${page.modulePath}: render() must return the page's text ending in one newline`,
    );
  }
  return text;
}
