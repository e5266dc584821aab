import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { loadConfig } from '@helix-release/core';
import stageGenerator, { registerStage } from './generator';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..', '..');
const ENTRY = "{ name: 'notice', executor: '@helix-stages/notice:notice', after: 'build', outputs: [{ path: 'notice.txt' }] }";

describe('registerStage', () => {
  it.each([
    [
      'into an existing stages array (first in the list)',
      `import { defineConfig } from '@helix-release/core';

export default defineConfig({
  apps: { root: 'apps' },
  stages: [
    { name: 'license-report', executor: '@acme/license:report', after: 'build', outputs: [{ path: 'L.txt' }] },
  ],
});
`,
      `import { defineConfig } from '@helix-release/core';

export default defineConfig({
  apps: { root: 'apps' },
  stages: [
    ${ENTRY},
    { name: 'license-report', executor: '@acme/license:report', after: 'build', outputs: [{ path: 'L.txt' }] },
  ],
});
`,
    ],
    [
      'into a config without stages (a trailing comma)',
      `import { defineConfig } from '@helix-release/core';

export default defineConfig({
  apps: { root: 'apps' },
  sign: { required: false },
});
`,
      `import { defineConfig } from '@helix-release/core';

export default defineConfig({
  apps: { root: 'apps' },
  sign: { required: false },
  stages: [
    ${ENTRY},
  ],
});
`,
    ],
    [
      'into a config without stages (no trailing comma)',
      `export default defineConfig({
  apps: { root: 'apps' }
});
`,
      `export default defineConfig({
  apps: { root: 'apps' },
  stages: [
    ${ENTRY},
  ],
});
`,
    ],
  ])('%s', (_what, source, expected) => {
    expect(registerStage(source, ENTRY)).toBe(expected);
  });

  it('refuses a config that is not `export default defineConfig({ ... });`', () => {
    expect(() => registerStage('module.exports = { apps: { root: "apps" } };\n', ENTRY)).toThrow(/add the stage by hand/);
    expect(() => registerStage('export default defineConfig(config)\n', ENTRY)).toThrow(/add the stage by hand/);
  });

  it('keeps the repository\'s release.config.ts loadable, with the new stage first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helix-register-'));
    try {
      // The copy resolves @helix-release/core through the repository's node_modules.
      await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
      const source = readFileSync(join(REPO_ROOT, 'release.config.ts'), 'utf8');
      const before = await loadConfigFrom(dir, source);
      const after = await loadConfigFrom(dir, registerStage(source, ENTRY));
      expect(after.stages.map((s) => s.name)).toEqual(['notice', ...before.stages.map((s) => s.name)]);
      expect(after.stages[0]).toEqual({ name: 'notice', executor: '@helix-stages/notice:notice', after: 'build', options: {}, inputs: [], outputs: [{ path: 'notice.txt', kind: 'custom', sbom: false }] });
      const { stages: _a, digest: _b, ...restAfter } = after;
      const { stages: _c, digest: _d, ...restBefore } = before;
      expect(restAfter).toEqual(restBefore);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

let loads = 0;
/** loadConfig of `source` written as release.config.ts in a fresh sub-folder of `dir` (require caches by path). */
async function loadConfigFrom(dir: string, source: string) {
  const sub = join(dir, `c${++loads}`);
  await mkdir(sub);
  await symlink(join(dir, 'node_modules'), join(sub, 'node_modules'));
  await writeFile(join(sub, 'release.config.ts'), source);
  return loadConfig(sub);
}

describe('stageGenerator', () => {
  it('scaffolds a stage package and registers it with --register', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('release.config.ts', "import { defineConfig } from '@helix-release/core';\n\nexport default defineConfig({\n  apps: { root: 'apps' },\n});\n");
    await stageGenerator(tree, { name: 'Notice', register: true });
    expect(tree.exists('packages/notice/package.json')).toBe(true);
    expect(tree.exists('packages/notice/src/executors/notice/executor.ts')).toBe(true);
    expect(tree.exists('packages/notice/src/lib/notice.ts')).toBe(true);
    expect(JSON.parse(tree.read('packages/notice/package.json', 'utf-8')!)).toMatchObject({ name: '@helix-stages/notice' });
    expect(tree.read('release.config.ts', 'utf-8')).toBe(
      `import { defineConfig } from '@helix-release/core';\n\nexport default defineConfig({\n  apps: { root: 'apps' },\n  stages: [\n    ${ENTRY},\n  ],\n});\n`,
    );
    await expect(stageGenerator(tree, { name: 'notice' })).rejects.toThrow(/packages\/notice exists already/);
  });

  it('leaves release.config.ts alone without --register', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const config = "export default defineConfig({\n  apps: { root: 'apps' },\n});\n";
    tree.write('release.config.ts', config);
    await stageGenerator(tree, { name: 'notice', after: 'conformance', directory: 'stages/notice', importPath: '@acme/notice' });
    expect(tree.read('release.config.ts', 'utf-8')).toBe(config);
    expect(JSON.parse(tree.read('stages/notice/package.json', 'utf-8')!)).toMatchObject({ name: '@acme/notice' });
  });
});
