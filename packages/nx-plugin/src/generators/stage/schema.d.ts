/** Options of the `stage` generator. */
export interface StageGeneratorSchema {
  name: string;
  directory?: string;
  importPath?: string;
  after?: 'build' | 'conformance';
  register?: boolean;
}
