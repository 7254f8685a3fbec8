/** Writes state/schema.json from the schema in code (`npm run schema`). */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stateSchema } from "./schema.js";

const target = fileURLToPath(new URL("../../state/schema.json", import.meta.url));
writeFileSync(target, JSON.stringify(stateSchema, null, 2) + "\n");
console.log(target);
