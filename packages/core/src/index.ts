/** @helix-release/core: the stage contract and shared building blocks. */
export * from './errors';
export * from './log';
export * from './sde';
export * from './hash';
export * from './canonical-json';
export * from './fsx';
export * from './tool';
export * from './zip-write';
export * from './zip-read';
export * from './manifest';
export * from './config';
export * from './stage';
export * from './platform';
export * from './toolchain';
export * from './plan';
export * from './app';
