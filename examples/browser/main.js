// bitembed in a browser: the "browser" entry fetches bitembed.wasm from beside itself
// (new URL("./bitembed.wasm", import.meta.url)), so a bundle needs that file copied next to it.
// Runs the shared smoke checks and shows the result; `window.smokeResult` holds it for test drivers.
import { init } from "bitembed";
import { smoke } from "../shared/smoke.js";

const result = await smoke(init, { runtime: navigator.userAgent, entry: import.meta.url });
window.smokeResult = result;
document.getElementById("result").textContent = JSON.stringify(result, null, 2);
