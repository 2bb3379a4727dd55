// Every format's plain reference, keyed as the registry is: a format in FORMATS without a reference here, or a
// reference for a format the registry does not have, fails to compile (`satisfies`, and the tests are
// type-checked by `npm test`). Adding a format: its file beside these, one line here.
import type { Format } from "../../../src/formats/registry.js";
import { reference as bf16 } from "./bf16.js";
import { reference as f16 } from "./f16.js";
import { reference as f32 } from "./f32.js";
import { reference as iq4_nl } from "./iq4_nl.js";
import { reference as iq4_xs } from "./iq4_xs.js";
import { reference as mxfp4 } from "./mxfp4.js";
import { reference as q1_0 } from "./q1_0.js";
import { reference as pq2_0 } from "./pq2_0.js";
import { reference as ptq1_0 } from "./ptq1_0.js";
import { reference as q2_0 } from "./q2_0.js";
import { reference as q2_k } from "./q2_k.js";
import { reference as q3_k } from "./q3_k.js";
import { reference as q4_0 } from "./q4_0.js";
import { reference as q4_1 } from "./q4_1.js";
import { reference as q4_k } from "./q4_k.js";
import { reference as q5_0 } from "./q5_0.js";
import { reference as q5_1 } from "./q5_1.js";
import { reference as q5_k } from "./q5_k.js";
import { reference as q6_k } from "./q6_k.js";
import { reference as q8_0 } from "./q8_0.js";
import { reference as tq1_0 } from "./tq1_0.js";
import { reference as tq2_0 } from "./tq2_0.js";
import type { FormatReference } from "./types.js";

export type { FormatReference };

export const REFERENCES = {
  f32,
  f16,
  bf16,
  q8_0,
  q4_0,
  q4_1,
  q1_0,
  q2_0,
  tq1_0,
  tq2_0,
  q6_k,
  q4_k,
  q5_k,
  q2_k,
  q3_k,
  iq4_xs,
  pq2_0,
  ptq1_0,
  q5_0,
  q5_1,
  iq4_nl,
  mxfp4,
} satisfies Record<Format, FormatReference>;
