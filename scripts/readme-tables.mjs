// npm run docs: regenerate README.md's generated tables between their markers — the formats (from FORMATS),
// the file sizes (scripts/sizes.mjs) and the quantization report (docs/QUANTIZATION.md, made by
// scripts/quant-report.mjs). Run after `npm run build`.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { FORMATS } from "../build/node.js";

const readmePath = new URL("../README.md", import.meta.url);
let readme = readFileSync(readmePath, "utf8");

function replaceBetween(name, body) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} ... ${end} markers`);
  readme = readme.slice(0, i + start.length) + "\n" + body.trim() + "\n" + readme.slice(j);
}

const formatRows = Object.values(FORMATS).map((f) => {
  const bits = ((f.blockBytes * 8) / f.blockElems).toFixed(f.blockElems === 1 ? 0 : 3);
  return `| ${f.name} | ${f.id} | ${f.blockElems} | ${f.blockBytes} | ${bits} | ${f.description} |`;
});
replaceBetween(
  "formats",
  ["| format | ggml id | block elements | block bytes | bits/weight | what |", "| --- | --- | --- | --- | --- | --- |", ...formatRows].join("\n"),
);

const sizes = execFileSync(process.execPath, [new URL("./sizes.mjs", import.meta.url).pathname], { encoding: "utf8" });
replaceBetween("sizes", sizes);

const quantDoc = new URL("../docs/QUANTIZATION.md", import.meta.url);
if (existsSync(quantDoc) && readme.includes("<!-- quant:start -->")) {
  // the report's tables and their headings, without its own title
  const body = readFileSync(quantDoc, "utf8").split("\n").slice(1).join("\n").replace(/^## /gm, "#### ");
  replaceBetween("quant", body);
}
writeFileSync(readmePath, readme);
console.log("README.md tables regenerated");
