// Suites import the library from src/ (index.ts, not an entry): give it the file system, as the node entry
// does when users import "bitembed" in Node.
import { provideFileSystem, type FileSystem } from "../../src/core/file-system.js";

provideFileSystem(() => import("node:fs/promises") as Promise<FileSystem>);
