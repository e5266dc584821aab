/**
 * The dependency rules of docs (DESIGN: format ← core ← stages ← nx-plugin /
 * verify ← cli), checked on the sources as they are: a stage never imports
 * another stage, the verifier imports no stage, records are read through
 * their types (no casts), and every package declares what it imports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const files = (...patterns: string[]) =>
  execFileSync('git', ['ls-files', '-co', '--exclude-standard', '--', ...patterns], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && existsSync(join(ROOT, f)));
const sources = files('packages/*/src/*.ts').filter((f) => !f.endsWith('.spec.ts') && !f.startsWith('packages/e2e/'));
const packageOf = (file: string) => file.split('/')[1]!;
const imports = (file: string) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/from '@helix-release\/([^/']+)/g)].map((m) => m[1]!);

/** Packages whose src/descriptor.ts makes them a stage of the plan, plus the toolchain. */
const STAGES = [...new Set(files('packages/*/src/descriptor.ts').map(packageOf)), 'toolchain'];

/** What each layer may import, besides itself. */
function allowed(pkg: string): string[] {
  if (pkg === 'format') return [];
  if (pkg === 'core') return ['format'];
  if (STAGES.includes(pkg) || pkg === 'verify') return ['core', 'format'];
  if (pkg === 'nx-plugin') return ['core', 'format', ...STAGES];
  // cli: `reproduce` signs its statement with the same key handling as the sign stage (GPG_* variables).
  if (pkg === 'cli') return ['core', 'format', 'verify', 'nx-plugin', 'sign'];
  throw new Error(`packages/${pkg} has no place in the dependency rules; add it here`);
}

describe('architecture', () => {
  it('knows the stages (the rule below is not vacuous)', () => {
    expect(STAGES).toEqual(expect.arrayContaining(['lockfile', 'pyinstaller', 'plugin-zip', 'conformance', 'sbom', 'checksums', 'build-meta', 'provenance', 'sign']));
    expect(sources.length).toBeGreaterThan(50);
  });

  it('keeps every import inside its layer: no stage imports another, verify imports no stage', () => {
    const broken = sources.flatMap((file) => {
      const pkg = packageOf(file);
      return imports(file).filter((dep) => dep !== pkg && !allowed(pkg).includes(dep)).map((dep) => `${file} imports @helix-release/${dep}`);
    });
    expect(broken).toEqual([]);
    expect(allowed('verify')).not.toContain('sign');
  });

  it('declares in package.json every package a source imports', () => {
    const missing = sources.flatMap((file) => {
      const pkg = packageOf(file);
      const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      return imports(file).filter((dep) => dep !== pkg && !manifest.dependencies?.[`@helix-release/${dep}`]).map((dep) => `packages/${pkg}/package.json lacks @helix-release/${dep} (imported by ${file})`);
    });
    expect([...new Set(missing)]).toEqual([]);
  });

  it('reads stage records through their types, never through casts', () => {
    const casts = files('packages/*/src/*.ts').flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/as unknown as|data as /.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(casts).toEqual([]);
  });
});
