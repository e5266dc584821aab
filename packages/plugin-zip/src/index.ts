/** @helix-release/plugin-zip: stage `plugin-zip` and the plugin signature format. */
export * from './descriptor';
export * from './lib/errors';
export * from './lib/keys';
export * from './lib/plugin-zip';
