/**
 * @helix-release/nx-plugin: infers projects and targets from the workspace
 * (see lib/infer.ts) so that `npx nx run release:all` needs no project.json.
 */
import { loadConfig } from '@helix-release/core';
import { inferProjects } from './lib/infer';

/** The files that make projects: PyInstaller specs, plugin manifests and the release config. */
const PATTERN = '**/{*.spec,plugin.json,release.config.ts}';

type CreateNodesResultV2 = Array<readonly [string, { projects: Record<string, Record<string, unknown>> }]>;

/** Plugin name shown by Nx. */
export const name = '@helix-release/nx-plugin';

/** Nx createNodes (v2 signature): one result per project, keyed by the file that made it. */
export const createNodesV2 = [
  PATTERN,
  async (files: readonly string[], _options: unknown, context: { workspaceRoot: string }): Promise<CreateNodesResultV2> => {
    if (!files.includes('release.config.ts')) return [];
    const config = await loadConfig(context.workspaceRoot);
    const projects = inferProjects(context.workspaceRoot, config, files);
    return projects.map((project) => {
      const source = project.root === '.' ? 'release.config.ts' : files.find((f) => f.startsWith(`${project.root}/`)) ?? project.root;
      const { root, ...rest } = project;
      return [source, { projects: { [root]: rest } }] as const;
    });
  },
] as const;

/** Same as {@link createNodesV2}; Nx 22 reads either name. */
export const createNodes = createNodesV2;
