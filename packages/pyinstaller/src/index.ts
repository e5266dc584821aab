/** @helix-release/pyinstaller: stage `package`. */
export * from './lib/package';
