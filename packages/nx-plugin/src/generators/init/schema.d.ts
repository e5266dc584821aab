/** Options of `nx g @helix-release/nx-plugin:init`. */
export interface InitGeneratorSchema {
  appsRoot?: string;
  pack?: string;
}
