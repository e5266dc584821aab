/**
 * `npx nx g @helix-release/nx-plugin:stage <name>`: scaffolds a custom stage
 * package with the same layout as ours (executor, schema, README, spec, lib),
 * and with `--register` adds it to release.config.ts.
 */
import { join } from 'node:path';
import { generateFiles, names, type Tree } from '@nx/devkit';
import type { StageGeneratorSchema } from './schema';

/** Adds a stage entry to release.config.ts's `stages` array (created when absent). */
export function registerStage(source: string, entry: string): string {
  const stages = /(\n\s*)stages:\s*\[/.exec(source);
  if (stages) {
    const at = stages.index + stages[0].length;
    return `${source.slice(0, at)}${stages[1]}  ${entry},${source.slice(at)}`;
  }
  const end = source.lastIndexOf('});');
  if (end < 0 || !/defineConfig\(\{/.test(source)) {
    throw new Error('release.config.ts does not look like `export default defineConfig({ ... });`; add the stage by hand');
  }
  const before = source.slice(0, end).replace(/,?\s*$/, '');
  return `${before},\n  stages: [\n    ${entry},\n  ],\n${source.slice(end)}`;
}

/** The generator. */
export default async function stageGenerator(tree: Tree, options: StageGeneratorSchema): Promise<() => void> {
  const n = names(options.name);
  const directory = options.directory ?? `packages/${n.fileName}`;
  const importPath = options.importPath ?? `@helix-stages/${n.fileName}`;
  const after = options.after ?? 'build';
  if (tree.exists(directory)) throw new Error(`${directory} exists already; pick another name or --directory`);
  generateFiles(tree, join(__dirname, 'files'), directory, {
    name: n.fileName,
    propertyName: n.propertyName,
    className: n.className,
    importPath,
    directory,
    after,
    tmpl: '',
  });
  const entry = `{ name: '${n.fileName}', executor: '${importPath}:${n.fileName}', after: '${after}', outputs: [{ path: '${n.fileName}.txt' }] }`;
  if (options.register) {
    const config = tree.read('release.config.ts', 'utf-8');
    if (config === null) throw new Error('no release.config.ts at the workspace root');
    tree.write('release.config.ts', registerStage(config, entry));
  }
  return () => {
    process.stdout.write(
      options.register
        ? `\nRegistered ${n.fileName} in release.config.ts; run \`npm install\` to link ${importPath}, then \`npx nx run release:all\`.\n`
        : `\nAdd it to release.config.ts to run it in the release:\n  stages: [\n    ${entry},\n  ],\nthen \`npm install\` and \`npx nx run release:all\`.\n`,
    );
  };
}
