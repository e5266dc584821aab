/**
 * `npm run pack:packages`: builds every @helix-release/* package to
 * JavaScript with its type declarations and packs each with `npm pack` into
 * dist/packages/<name>-<version>.tgz, ready for `npm install` in another
 * workspace (no swc, no TypeScript needed there).
 *
 * - One `tsc -p tsconfig.pack.json` compiles every package's src/ (specs
 *   excluded) to CommonJS, as Nx loads executors.
 * - Each package is staged in dist/pack/<dir>/: its own files (README,
 *   executors.json, schemas, generator templates, bin/) and the compiled
 *   src/; the package.json points at the JavaScript, and its dependencies
 *   on our packages name their exact version (install the tarballs together).
 * - @helix-release/core carries our own run-time files under assets/ (the
 *   toolchain pins, the verification kit, the Nx runtime-input scripts; see
 *   packages/core/src/assets.ts).
 *
 * npm pack writes fixed timestamps, so the same sources give the same bytes.
 * Prints one line per tarball with its sha256.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { KIT_TOOLS } from '@helix-release/format';

const root = resolve(__dirname, '..', '..');
const packagesDir = join(root, 'packages');
const buildDir = join(root, 'dist', 'pack', '.build');
const stageRoot = join(root, 'dist', 'pack');
const outDir = join(root, 'dist', 'packages');

/** Packages that are not published: the e2e tests. */
const UNPUBLISHED = new Set(['e2e']);

/** Our own run-time files, carried by core under assets/ (paths as in this repository). */
function assetFiles(): string[] {
  const dir = (rel: string) => readdirSync(join(root, rel)).filter((f) => statSync(join(root, rel, f)).isFile()).map((f) => `${rel}/${f}`);
  return [...dir('tools/toolchain'), ...dir('tools/nx'), ...KIT_TOOLS].sort();
}

interface Manifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Whether a file of a package's folder goes into its tarball as it is. */
function shipsAsIs(rel: string): boolean {
  const parts = rel.split('/');
  if (parts.some((p) => p === 'node_modules' || p === 'testdata' || p === '__pycache__')) return false;
  if (/\.spec\.[cm]?[jt]s$/.test(rel)) return false;
  // Generator templates are copied verbatim; other TypeScript is compiled (declarations are kept).
  if (rel.endsWith('.ts') && !rel.endsWith('.d.ts') && !parts.includes('files')) return false;
  if (isSourceEntry(rel)) return false;
  return true;
}

/**
 * A source tree's entry: an `x.cjs` under src/ beside its `x.ts`, which loads the
 * TypeScript (package.json main, executors.json). The tarball has the
 * compiled `x.js` instead, and the manifests name it.
 */
function isSourceEntry(rel: string): boolean {
  return rel.startsWith('src/') && rel.endsWith('.cjs');
}

/** An entry path of a manifest, as the tarball has it: the compiled JavaScript. */
function compiledEntry(path: string): string {
  return path.replace(/\.(ts|cjs)$/, '.js');
}

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = join(dir, d.name);
    return d.isDirectory() ? walk(full, base) : [relative(base, full).split('\\').join('/')];
  });
}


function main(): void {
  const dirs = readdirSync(packagesDir).filter((d) => !UNPUBLISHED.has(d) && existsSync(join(packagesDir, d, 'package.json'))).sort();
  const manifests = new Map(dirs.map((d) => [d, JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')) as Manifest]));
  const versions = new Map([...manifests.values()].map((m) => [m.name, m.version]));

  rmSync(stageRoot, { recursive: true, force: true });
  console.log('compiling the packages (tsc -p tsconfig.pack.json)');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.pack.json'), '--outDir', buildDir], { cwd: root, stdio: 'inherit' });

  mkdirSync(outDir, { recursive: true });
  for (const dir of dirs) {
    const manifest = manifests.get(dir)!;
    const stage = join(stageRoot, dir);
    for (const rel of walk(join(packagesDir, dir)).filter(shipsAsIs)) {
      mkdirSync(dirname(join(stage, rel)), { recursive: true });
      cpSync(join(packagesDir, dir, rel), join(stage, rel));
    }
    const compiled = join(buildDir, dir, 'src');
    if (existsSync(compiled)) cpSync(compiled, join(stage, 'src'), { recursive: true });
    if (dir === 'core') {
      for (const rel of assetFiles()) {
        mkdirSync(dirname(join(stage, 'assets', rel)), { recursive: true });
        cpSync(join(root, rel), join(stage, 'assets', rel));
      }
    }
    const deps = Object.fromEntries(
      Object.entries(manifest.dependencies ?? {}).map(([name, range]) => {
        const ours = versions.get(name);
        return [name, ours ?? range];
      }),
    );
    const executorsFile = join(stage, 'executors.json');
    if (existsSync(executorsFile)) {
      const executors = JSON.parse(readFileSync(executorsFile, 'utf8')) as { executors: Record<string, { implementation: string }> };
      for (const e of Object.values(executors.executors)) e.implementation = compiledEntry(e.implementation);
      writeFileSync(executorsFile, `${JSON.stringify(executors, null, 2)}\n`);
    }
    const packed: Manifest = { ...manifest, ...(manifest.main ? { main: compiledEntry(manifest.main) } : {}), ...(manifest.types ? { types: manifest.types.replace(/\.ts$/, '.d.ts') } : {}), dependencies: deps };
    delete packed.devDependencies;
    // Nothing but our own code and assets: the list is what npm pack takes.
    packed['files'] = readdirSync(stage).filter((f) => f !== 'package.json').sort();
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(packed, null, 2)}\n`);

    const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: stage, encoding: 'utf8', env: { ...process.env, npm_config_ignore_scripts: 'true' } }).trim().split('\n').pop()!;
    const tarball = join(outDir, name);
    if (!existsSync(tarball)) throw new Error(`npm pack in ${stage} wrote no ${name}`);
    const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
    console.log(`${sha}  dist/packages/${name}`);
  }
  rmSync(buildDir, { recursive: true, force: true });
}

main();
