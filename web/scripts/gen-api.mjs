// Regenerates the typed API client's inputs from the Django API:
//   web/openapi.yaml            (manage.py spectacular, test settings)
//   web/src/lib/api/schema.d.ts (openapi-typescript)
// With --check, writes both to a temporary folder and fails if either differs from the
// committed copy (the client is stale: run `npm run gen:api` and commit the result).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(web, "..");
const python = process.env.PYTHON ?? join(repo, ".venv", "bin", "python");
const committed = {
  schema: join(web, "openapi.yaml"),
  types: join(web, "src", "lib", "api", "schema.d.ts"),
};
const check = process.argv.includes("--check");

function generate(schemaPath, typesPath) {
  if (!existsSync(python)) {
    throw new Error(`${python} not found: run \`make install\` first (or set PYTHON).`);
  }
  execFileSync(python, ["manage.py", "spectacular", "--file", schemaPath], {
    cwd: repo,
    env: { ...process.env, DJANGO_SETTINGS_MODULE: "config.settings.test" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  execFileSync(join(web, "node_modules", ".bin", "openapi-typescript"), [schemaPath, "-o", typesPath], {
    cwd: web,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

if (!check) {
  generate(committed.schema, committed.types);
  console.log("API client regenerated: web/openapi.yaml, web/src/lib/api/schema.d.ts");
} else {
  const scratch = mkdtempSync(join(tmpdir(), "cdss-api-"));
  try {
    const fresh = { schema: join(scratch, "openapi.yaml"), types: join(scratch, "schema.d.ts") };
    generate(fresh.schema, fresh.types);
    const stale = Object.keys(committed).filter(
      (key) => !existsSync(committed[key]) || readFileSync(committed[key], "utf8") !== readFileSync(fresh[key], "utf8"),
    );
    if (stale.length > 0) {
      console.error(
        `The generated API client is stale (${stale.map((k) => committed[k].slice(repo.length + 1)).join(", ")}): ` +
          "run `npm run gen:api` in web/ and commit the result.",
      );
      process.exit(1);
    }
    console.log("API client is up to date with the Django schema.");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
