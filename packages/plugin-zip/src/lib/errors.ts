import { ReleaseError } from '@helix-release/core';

/** Error codes of the plugin-zip stage and the plugin format. */
export type PluginZipErrorCode =
  | 'PLUGIN_METADATA_INVALID'
  | 'PLUGIN_SOURCE_UNSAFE'
  | 'PLUGIN_KEY_MISSING'
  | 'PLUGIN_KEY_INVALID';

/** A plugin-zip error. */
export class PluginZipError extends ReleaseError<PluginZipErrorCode> {}
