/** @helix-release/pyinstaller: stage `package`. */
export * from './descriptor';
export * from './lib/package';
