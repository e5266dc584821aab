import { afterAll, beforeAll, describe, it, expect, vi } from 'vitest';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { loadConfig } from '@helix-release/core';
import initGenerator, { configTemplate, IGNORED, PLUGIN, withIgnores } from './generator';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..', '..');

/** The plugins of nx.json in `tree`. */
function plugins(tree: Tree) {
  return readNxJson(tree)?.plugins ?? [];
}

/** Every change of `tree` against the disk, with its content as text. */
function snapshot(tree: Tree) {
  return tree.listChanges().map((c) => ({ path: c.path, type: c.type, content: c.content?.toString('utf-8') ?? null }));
}

/** Runs the generator and its callback, returning what the callback printed. */
async function run(tree: Tree, options = {}): Promise<string> {
  const callback = await initGenerator(tree, options);
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    callback();
    return write.mock.calls.map((c) => String(c[0])).join('');
  } finally {
    write.mockRestore();
  }
}

describe('initGenerator: nx.json', () => {
  it('registers the plugin in a workspace without plugins', async () => {
    const tree = createTreeWithEmptyWorkspace();
    expect(plugins(tree).some((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN)).toBe(false);
    await initGenerator(tree);
    expect(plugins(tree)).toEqual([PLUGIN]);
  });

  it('writes nx.json when the workspace has none', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.delete('nx.json');
    const printed = await run(tree);
    expect(JSON.parse(tree.read('nx.json', 'utf-8')!)).toEqual({ plugins: [PLUGIN] });
    expect(printed).toContain(`registered ${PLUGIN} in nx.json`);
  });

  it('names the ignore entries it added, and only those', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('.gitignore', IGNORED.filter((e) => e !== '.cache/' && e !== '*.pyc').join('\n') + '\n');
    expect(await run(tree)).toContain('added .cache/, *.pyc to .gitignore');
  });

  it('keeps the plugins there are, in string and object form, and appends it', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const existing = ['@nx/js', { plugin: '@nx/vite/plugin', options: { buildTargetName: 'build' } }];
    updateNxJson(tree, { ...readNxJson(tree), plugins: existing });
    await initGenerator(tree);
    expect(plugins(tree)).toEqual([...existing, PLUGIN]);
  });

  it.each([
    ['string', [PLUGIN]],
    ['object', [{ plugin: PLUGIN, options: { some: 'option' } }]],
  ])('does not add it again when it is there in %s form', async (_form, existing) => {
    const tree = createTreeWithEmptyWorkspace();
    updateNxJson(tree, { ...readNxJson(tree), plugins: existing });
    await initGenerator(tree);
    expect(plugins(tree)).toEqual(existing);
  });
});

describe('initGenerator: release.config.ts', () => {
  it('writes it when absent, with the options', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await initGenerator(tree);
    expect(tree.read('release.config.ts', 'utf-8')).toBe(configTemplate('apps', 'conformance'));
    const other = createTreeWithEmptyWorkspace();
    await initGenerator(other, { appsRoot: 'services', pack: 'qa/pack' });
    expect(other.read('release.config.ts', 'utf-8')).toBe(configTemplate('services', 'qa/pack'));
  });

  it('leaves an existing one byte-identical', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const mine = Buffer.from("// mine\r\nexport default { apps: { root: 'src' } }", 'utf-8');
    tree.write('release.config.ts', mine);
    const printed = await run(tree, { appsRoot: 'elsewhere' });
    expect(tree.read('release.config.ts')!.equals(mine)).toBe(true);
    expect(printed).not.toContain('wrote release.config.ts');
  });

  describe('the written config loads and resolves', () => {
    let dir: string;
    let loads = 0;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'helix-init-'));
      // The config's import of @helix-release/core resolves through the repository's node_modules.
      await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    /** loadConfig of `source` as release.config.ts in a fresh folder (require caches by path). */
    async function load(source: string) {
      const sub = join(dir, `c${++loads}`);
      await mkdir(sub);
      await symlink(join(dir, 'node_modules'), join(sub, 'node_modules'));
      await writeFile(join(sub, 'release.config.ts'), source);
      return loadConfig(sub);
    }

    it('with the defaults', async () => {
      const tree = createTreeWithEmptyWorkspace();
      await initGenerator(tree);
      const config = await load(tree.read('release.config.ts', 'utf-8')!);
      expect(config.apps.root).toBe('apps');
      expect(config.conformance?.pack).toBe('conformance');
      expect(config.sign.required).toBe(false);
      expect(config.file).toBe('release.config.ts');
    });

    it('with appsRoot and pack', async () => {
      const config = await load(configTemplate('services', 'qa/pack'));
      expect(config.apps.root).toBe('services');
      expect(config.conformance?.pack).toBe('qa/pack');
    });
  });
});

describe('withIgnores', () => {
  const HEADER = '# helix-release: the release, the toolchain, caches';

  it('writes every entry into an empty file', () => {
    expect(withIgnores('')).toBe(`${HEADER}\n${IGNORED.join('\n')}\n`);
  });

  it('appends only the missing entries, keeping the content', () => {
    const current = 'node_modules/\n# mine\nsecrets.env\n.nx/\n';
    const updated = withIgnores(current);
    expect(updated.startsWith(current)).toBe(true);
    const added = updated.slice(current.length).split('\n');
    expect(added).toEqual(['', HEADER, ...IGNORED.filter((e) => e !== 'node_modules/' && e !== '.nx/'), '']);
  });

  it("treats 'dist' and 'dist/' as the same entry", () => {
    const withoutSlash = withIgnores('dist\n');
    const withSlash = withIgnores('dist/\n');
    for (const updated of [withoutSlash, withSlash]) {
      expect(updated.split('\n').filter((l) => l === 'dist' || l === 'dist/')).toHaveLength(1);
      expect(updated).toContain('node_modules/');
    }
    expect(withoutSlash.slice('dist\n'.length)).toBe(withSlash.slice('dist/\n'.length));
  });

  it('ignores surrounding whitespace of an existing entry', () => {
    expect(withIgnores('  dist/  \n').split('\n').filter((l) => l.trim() === 'dist/')).toHaveLength(1);
  });

  it('adds the missing trailing newline before appending', () => {
    const updated = withIgnores('secrets.env');
    expect(updated.startsWith('secrets.env\n\n')).toBe(true);
    expect(updated.endsWith('\n')).toBe(true);
    expect(updated.split('\n')).toContain('secrets.env');
  });

  it('returns the input unchanged when nothing is missing', () => {
    const complete = `mine\n${IGNORED.map((e) => e.replace(/\/$/, '')).join('\n')}`;
    expect(withIgnores(complete)).toBe(complete);
    const full = withIgnores('');
    expect(withIgnores(full)).toBe(full);
  });
});

describe('initGenerator: .gitignore', () => {
  it('creates it and keeps an existing one\'s content', async () => {
    const tree = createTreeWithEmptyWorkspace();
    if (tree.exists('.gitignore')) tree.delete('.gitignore');
    await initGenerator(tree);
    expect(tree.read('.gitignore', 'utf-8')).toBe(withIgnores(''));

    const other = createTreeWithEmptyWorkspace();
    other.write('.gitignore', 'secrets.env\ndist\n');
    await initGenerator(other);
    const updated = other.read('.gitignore', 'utf-8')!;
    expect(updated).toBe(withIgnores('secrets.env\ndist\n'));
    expect(updated.startsWith('secrets.env\ndist\n')).toBe(true);
    expect(updated.split('\n')).not.toContain('dist/');
  });
});

describe('initGenerator: twice', () => {
  it('changes nothing the second time', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('.gitignore', 'secrets.env');
    const first = await run(tree);
    expect(first).toContain(`registered ${PLUGIN} in nx.json`);
    expect(first).toContain('wrote release.config.ts');
    const before = snapshot(tree);
    expect(before.map((c) => c.path)).toEqual(expect.arrayContaining(['nx.json', 'release.config.ts', '.gitignore']));
    const second = await run(tree);
    expect(snapshot(tree)).toEqual(before);
    expect(second).toContain('already set up, nothing changed');
    expect(plugins(tree).filter((p) => p === PLUGIN)).toHaveLength(1);
  });
});
