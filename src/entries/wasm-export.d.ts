// Types of `bitembed/bitembed.wasm` and `bitembed/bitembed.relaxed.wasm` (copied to build/types/wasm.d.ts).
// Where the platform compiles wasm imports (Cloudflare Workers, wrangler, workerd bundles) the default export
// is a WebAssembly.Module: `import wasm from "bitembed/bitembed.wasm"; await init(wasm)`. Bundlers that turn
// assets into URLs have their own suffixes (Vite: "bitembed/bitembed.wasm?url", typed by vite/client).
declare const wasm: WebAssembly.Module;
export default wasm;
