import { afterAll, beforeAll, describe, it, expect, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { FsTree } from 'nx/src/generators/tree';
import appGenerator from './generator';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..', '..');

/** Text of `path` in `tree`, failing the test when it is missing. */
function text(tree: Tree, path: string): string {
  const content = tree.read(path, 'utf-8');
  if (content === null) throw new Error(`${path} is missing`);
  return content;
}

/** Runs the generator's callback, returning what it printed. */
async function printed(callback: () => Promise<void>): Promise<string> {
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await callback();
    return write.mock.calls.map((c) => String(c[0])).join('');
  } finally {
    write.mockRestore();
  }
}

/** Whether `grep -E` (what tools/conformance.sh uses) finds `pattern` in `line`. */
function grepMatches(pattern: string, line: string): boolean {
  const r = spawnSync('grep', ['-Eq', '--', pattern], { input: `${line}\n` });
  if (r.status !== 0 && r.status !== 1) throw new Error(`grep failed: ${r.stderr}`);
  return r.status === 0;
}

describe('appGenerator', () => {
  it('writes the app under apps/<name> and its cases in conformance/cases', async () => {
    const tree = createTreeWithEmptyWorkspace();
    expect(tree.exists('release.config.ts')).toBe(false);
    await appGenerator(tree, { name: 'acme-cli', lock: false });

    const pyproject = text(tree, 'apps/acme-cli/pyproject.toml');
    expect(pyproject).toMatch(/^name = "acme-cli"$/m);
    expect(pyproject).toMatch(/^version = "0\.1\.0"$/m);
    expect(pyproject).toMatch(/^acme-cli = "acme_cli\.cli:main"$/m);

    const spec = text(tree, 'apps/acme-cli/acme-cli.spec');
    // EXE's and COLLECT's name (the header comment mentions it once more).
    expect(spec.match(/^ {4}name="acme-cli",$/gm)).toHaveLength(2);
    expect(spec).toMatch(/^coll = COLLECT\(/m);
    expect(spec).toContain('    pathex=[os.path.join(HERE, "src")],');

    expect(text(tree, 'apps/acme-cli/src/acme_cli/__init__.py')).toMatch(/^__version__ = "0\.1\.0"$/m);
    const cli = text(tree, 'apps/acme-cli/src/acme_cli/cli.py');
    expect(cli).toContain('prog="acme-cli"');
    expect(cli).toContain('version=f"acme-cli {__version__}"');
    expect(text(tree, 'apps/acme-cli/packaging/entry.py')).toMatch(/^from acme_cli\.cli import main$/m);
    const readme = text(tree, 'apps/acme-cli/README.md');
    expect(readme).toMatch(/^# acme-cli$/m);
    expect(readme).toContain('--directory apps/acme-cli');
    expect(readme).toContain('conformance/cases/acme-cli-*');

    // No template leftovers: every file name and content is rendered.
    const files = tree.listChanges().map((c) => c.path).filter((p) => p.startsWith('apps/acme-cli/'));
    expect(files.sort()).toEqual(
      [
        'apps/acme-cli/README.md',
        'apps/acme-cli/acme-cli.spec',
        'apps/acme-cli/packaging/entry.py',
        'apps/acme-cli/pyproject.toml',
        'apps/acme-cli/src/acme_cli/__init__.py',
        'apps/acme-cli/src/acme_cli/cli.py',
      ].sort(),
    );
    for (const f of files) expect(text(tree, f)).not.toMatch(/<%|%>/);

    for (const c of ['acme-cli-01-version', 'acme-cli-02-hello', 'acme-cli-03-unknown-command-fails']) {
      expect(text(tree, `conformance/cases/${c}/app`)).toBe('acme-cli\n');
      expect(tree.exists(`conformance/cases/${c}/args`)).toBe(true);
    }
    expect(text(tree, 'conformance/cases/acme-cli-01-version/args')).toBe('--version\n');
    expect(text(tree, 'conformance/cases/acme-cli-02-hello/args')).toBe('hello\nconformance\n');
    expect(text(tree, 'conformance/cases/acme-cli-02-hello/expect-stdout')).toBe('^hello, conformance$\n');
    expect(text(tree, 'conformance/cases/acme-cli-03-unknown-command-fails/expect-exit')).toBe('2\n');
    expect(text(tree, 'conformance/cases/acme-cli-03-unknown-command-fails/expect-stderr')).toBe('invalid choice\n');
  });

  it('carries --version into pyproject.toml, __init__.py and the version case', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await appGenerator(tree, { name: 'acme-cli', version: '2.0.0', lock: false });
    expect(text(tree, 'apps/acme-cli/pyproject.toml')).toMatch(/^version = "2\.0\.0"$/m);
    expect(text(tree, 'apps/acme-cli/src/acme_cli/__init__.py')).toMatch(/^__version__ = "2\.0\.0"$/m);

    const expectStdout = text(tree, 'conformance/cases/acme-cli-01-version/expect-stdout');
    const lines = expectStdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const [pattern] = lines;
    const regex = new RegExp(pattern!);
    expect(regex.test('acme-cli 2.0.0')).toBe(true);
    expect(regex.test('acme-cli 2x0x0')).toBe(false);
    expect(regex.test('acme-cli 2.0.0.1')).toBe(false);
    expect(regex.test('acme-cli 0.1.0')).toBe(false);
    // The same with grep -E, which tools/conformance.sh runs.
    expect(grepMatches(pattern!, 'acme-cli 2.0.0')).toBe(true);
    expect(grepMatches(pattern!, 'acme-cli 2x0x0')).toBe(false);
  });

  it('names the module after the app, with - as _', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await appGenerator(tree, { name: 'a-b-c9', lock: false });
    expect(tree.exists('apps/a-b-c9/src/a_b_c9/__init__.py')).toBe(true);
    expect(tree.exists('apps/a-b-c9/src/a_b_c9/cli.py')).toBe(true);
    expect(text(tree, 'apps/a-b-c9/packaging/entry.py')).toContain('from a_b_c9.cli import main');
  });

  it('matches a local version literally: + is not a regular expression operator there', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await appGenerator(tree, { name: 'acme-cli', version: '1.0.0+local', lock: false });
    const pattern = text(tree, 'conformance/cases/acme-cli-01-version/expect-stdout').trim();
    expect(grepMatches(pattern, 'acme-cli 1.0.0+local')).toBe(true);
    expect(grepMatches(pattern, 'acme-cli 1.0.00local')).toBe(false);
  });

  it.each(['', 'v1.0.0', '1.0.0 ', '1..0', '1.0.0+'])('refuses the version %j', async (version) => {
    const tree = createTreeWithEmptyWorkspace();
    await expect(appGenerator(tree, { name: 'acme-cli', version, lock: false })).rejects.toThrow(/use a PEP 440 version/);
  });

  it.each(['Acme', '1abc', 'a_b', '', 'a b', '-abc', 'abc-', 'a--b'])('refuses the name %j', async (name) => {
    const tree = createTreeWithEmptyWorkspace();
    await expect(appGenerator(tree, { name, lock: false })).rejects.toThrow(/use lower-case letters and digits with single dashes/);
    expect(tree.listChanges().filter((c) => c.path.startsWith('apps/') || c.path.startsWith('conformance/'))).toEqual([]);
  });

  it('refuses a folder that exists already', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('apps/acme-cli/keep.txt', 'mine');
    await expect(appGenerator(tree, { name: 'acme-cli', lock: false })).rejects.toThrow(/apps\/acme-cli exists already/);
    expect(tree.exists('apps/acme-cli/pyproject.toml')).toBe(false);

    const again = createTreeWithEmptyWorkspace();
    await appGenerator(again, { name: 'acme-cli', lock: false });
    await expect(appGenerator(again, { name: 'acme-cli', lock: false })).rejects.toThrow(/apps\/acme-cli exists already/);
  });

  it('refuses conformance cases that exist already', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('conformance/cases/acme-cli-02-hello/args', 'mine\n');
    await expect(appGenerator(tree, { name: 'acme-cli', lock: false })).rejects.toThrow(/conformance\/cases\/acme-cli-02-hello exists already/);
    expect(text(tree, 'conformance/cases/acme-cli-02-hello/args')).toBe('mine\n');
  });

  it('honours --directory, and warns when it is not below apps.root', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const callback = await appGenerator(tree, { name: 'acme-cli', directory: 'tools/acme', lock: false });
    expect(text(tree, 'tools/acme/pyproject.toml')).toMatch(/^name = "acme-cli"$/m);
    expect(tree.exists('tools/acme/acme-cli.spec')).toBe(true);
    expect(tree.exists('apps/acme-cli')).toBe(false);
    expect(text(tree, 'tools/acme/README.md')).toContain('--directory tools/acme');
    expect(text(tree, 'conformance/cases/acme-cli-01-version/app')).toBe('acme-cli\n');
    const out = await printed(callback);
    expect(out).toContain('Added acme-cli in tools/acme');
    expect(out).toContain('WARNING: tools/acme is not below apps.root (apps)');
  });

  it('does not warn for a --directory below apps.root', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const callback = await appGenerator(tree, { name: 'acme-cli', directory: 'apps/tools/acme', lock: false });
    expect(tree.exists('apps/tools/acme/pyproject.toml')).toBe(true);
    const out = await printed(callback);
    expect(out).toContain('Added acme-cli in apps/tools/acme');
    expect(out).not.toContain('WARNING');
  });

  it('says what it added, and that the app still needs locking, with lock: false', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const callback = await appGenerator(tree, { name: 'acme-cli', lock: false });
    const out = await printed(callback);
    expect(out).toContain('Added acme-cli in apps/acme-cli, with its conformance cases in acme-cli-01-version, acme-cli-02-hello, acme-cli-03-unknown-command-fails (conformance/cases).');
    expect(out).toContain('Lock it before building: see apps/acme-cli/README.md.');
    expect(out).not.toContain('WARNING');
    expect(out).not.toContain('Locked with uv');
  });

  describe('with a release.config.ts at the workspace root', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'helix-app-'));
      // The config's import of @helix-release/core resolves through the repository's node_modules.
      await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
      await writeFile(
        join(dir, 'release.config.ts'),
        "import { defineConfig } from '@helix-release/core';\n\nexport default defineConfig({\n  apps: { root: 'services' },\n  conformance: { pack: 'qa/pack' },\n});\n",
      );
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('puts the app below apps.root and the cases in conformance.pack', async () => {
      // A tree on the real folder (never flushed): the generator reads release.config.ts from tree.root.
      const tree = new FsTree(dir, false);
      const callback = await appGenerator(tree, { name: 'acme-cli', lock: false });
      expect(text(tree, 'services/acme-cli/pyproject.toml')).toMatch(/^name = "acme-cli"$/m);
      expect(tree.exists('services/acme-cli/acme-cli.spec')).toBe(true);
      expect(tree.exists('apps/acme-cli')).toBe(false);
      expect(text(tree, 'qa/pack/cases/acme-cli-01-version/app')).toBe('acme-cli\n');
      expect(tree.exists('qa/pack/cases/acme-cli-03-unknown-command-fails/expect-exit')).toBe(true);
      expect(tree.exists('conformance')).toBe(false);
      expect(text(tree, 'services/acme-cli/README.md')).toContain('qa/pack/cases/acme-cli-*');
      const out = await printed(callback);
      expect(out).toContain('Added acme-cli in services/acme-cli');
      expect(out).toContain('(qa/pack/cases)');
      expect(out).not.toContain('WARNING');
    });

    it('warns when the config names no conformance pack: the cases it writes would never run', async () => {
      const bare = await mkdtemp(join(tmpdir(), 'helix-app-nopack-'));
      try {
        await symlink(join(REPO_ROOT, 'node_modules'), join(bare, 'node_modules'));
        await writeFile(join(bare, 'release.config.ts'), "import { defineConfig } from '@helix-release/core';\n\nexport default defineConfig({ apps: { root: 'apps' } });\n");
        const out = await printed(await appGenerator(new FsTree(bare, false), { name: 'acme-cli', lock: false }));
        expect(out).toContain("WARNING: release.config.ts names no conformance.pack: set conformance: { pack: 'conformance' }");
      } finally {
        await rm(bare, { recursive: true, force: true });
      }
    });
  });
});

describe('appGenerator --from (adopting an existing app)', () => {
  const existing = (tree: ReturnType<typeof createTreeWithEmptyWorkspace>, pyproject: string) => {
    tree.write('apps/legacy/pyproject.toml', pyproject);
    tree.write('apps/legacy/legacy_tool/main.py', 'def run():\n    print("legacy-tool 3.2.1")\n');
  };
  const PYPROJECT = '[project]\nname = "legacy-tool"\nversion = "3.2.1"\ndependencies = []\n\n[project.scripts]\nlegacy-tool = "legacy_tool.main:run"\n';

  it('keeps its files and adds only the spec, the entry script and the cases, from its own name, version and entry point', async () => {
    const tree = createTreeWithEmptyWorkspace();
    existing(tree, PYPROJECT);
    await appGenerator(tree, { name: 'legacy-tool', from: 'apps/legacy', lock: false });
    expect(tree.read('apps/legacy/pyproject.toml', 'utf-8')).toBe(PYPROJECT);
    const entry = tree.read('apps/legacy/packaging/entry.py', 'utf-8')!;
    expect(entry).toContain('from legacy_tool.main import run');
    expect(entry).toContain('sys.exit(run())');
    const spec = tree.read('apps/legacy/legacy-tool.spec', 'utf-8')!;
    // No src/ folder: the code is found in the app folder itself.
    expect(spec).toContain('pathex=[HERE],');
    expect(spec).toContain('name="legacy-tool",');
    expect(tree.exists('apps/legacy/README.md')).toBe(false);
    expect(tree.read('conformance/cases/legacy-tool-01-version/expect-stdout', 'utf-8')).toBe('^legacy-tool 3\\.2\\.1$\n');
    // Its commands are its own: only the version case is made for it.
    expect(tree.children('conformance/cases')).toEqual(['legacy-tool-01-version']);
    expect(tree.listChanges().map((c) => c.path).filter((p) => p.startsWith('.helix-app-template'))).toEqual([]);
  });

  it('keeps a spec it has', async () => {
    const tree = createTreeWithEmptyWorkspace();
    existing(tree, PYPROJECT);
    tree.write('apps/legacy/mine.spec', '# my own spec\n');
    await appGenerator(tree, { name: 'legacy-tool', from: 'apps/legacy', lock: false });
    expect(tree.exists('apps/legacy/legacy-tool.spec')).toBe(false);
    expect(tree.read('apps/legacy/mine.spec', 'utf-8')).toBe('# my own spec\n');
  });

  it.each([
    ['no pyproject.toml', undefined, /there is no apps\/legacy\/pyproject\.toml/],
    ['another name', PYPROJECT.replace('name = "legacy-tool"', 'name = "other"'), /\[project\] name is "other", not "legacy-tool"/],
    ['no static version', PYPROJECT.replace('version = "3.2.1"\n', ''), /needs a static version/],
    ['no entry point', PYPROJECT.replace(/\[project\.scripts\][^]*$/, ''), /\[project\.scripts\] needs legacy-tool = "<module>:<function>"/],
  ])('refuses an app with %s', async (_what, pyproject, message) => {
    const tree = createTreeWithEmptyWorkspace();
    if (pyproject !== undefined) existing(tree, pyproject);
    else tree.write('apps/legacy/x.py', '');
    await expect(appGenerator(tree, { name: 'legacy-tool', from: 'apps/legacy', lock: false })).rejects.toThrow(message);
  });
});

describe('the generated Python', () => {
  it.each([
    ['a new app', { name: 'acme-cli', lock: false }, 'apps/acme-cli'],
    ['an adopted app', { name: 'legacy-tool', from: 'apps/legacy', lock: false }, 'apps/legacy'],
  ])('of %s parses (spec, entry script, package): no template escaping in the code', async (_what, options, dir) => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('apps/legacy/pyproject.toml', '[project]\nname = "legacy-tool"\nversion = "3.2.1"\n\n[project.scripts]\nlegacy-tool = "legacy_tool.main:run"\n');
    await appGenerator(tree, options);
    const files = tree.listChanges().map((c) => c.path).filter((p) => p.startsWith(`${dir}/`) && /\.(py|spec)$/.test(p));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const out = await mkdtemp(join(tmpdir(), 'helix-app-py-'));
    try {
      for (const [i, f] of files.entries()) await writeFile(join(out, `${i}.py`), tree.read(f, 'utf-8')!);
      const check = spawnSync('python3', ['-c', 'import ast, sys\nfor f in sys.argv[1:]: ast.parse(open(f).read(), f)', ...files.map((_, i) => join(out, `${i}.py`))], { encoding: 'utf8' });
      expect(check.status, `${files.join(', ')}: ${check.stderr}`).toBe(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

