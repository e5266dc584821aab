/** @helix-release/toolchain: provisioning of the pinned release toolchain. */
export * from './lib/provision';
