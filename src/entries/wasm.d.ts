declare module "*.wasm" {
  const value: WebAssembly.Module;
  export default value;
}

// workerd's built-in module (types as far as src/entries/head-shard.ts uses them)
declare module "cloudflare:workers" {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: unknown;
    protected env: Env;
    constructor(ctx: unknown, env: Env);
  }
}
