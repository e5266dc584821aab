/** @helix-release/build-meta: stage `build-meta` and the BUILD_META.txt format. */
export * from './descriptor';
export * from './lib/build-meta';
