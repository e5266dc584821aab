/** Options of `nx g @helix-release/nx-plugin:app`. */
export interface AppGeneratorSchema {
  name: string;
  directory?: string;
  version?: string;
  lock?: boolean;
  from?: string;
}
