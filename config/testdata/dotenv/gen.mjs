// Regenerates cases.json: what OpenClaw 2026.9.6 reads from a .env file,
// for each input below. OpenClaw parses the file with dotenv's parse()
// (dotenv 17.4.2, its dependency) and keeps only portable variable names
// (normalizeEnvVarKey with portable: true, /^[A-Za-z_][A-Za-z0-9_]*$/).
//
//   node gen.mjs <path to openclaw's node_modules/dotenv> > cases.json
//
// e.g. node gen.mjs "$CLAWGATE_E2E_CACHE/openclaw-2026.9.6/node_modules/dotenv" (see e2e/README.md)
import { createRequire } from "node:module";
import path from "node:path";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node gen.mjs <path to node_modules/dotenv>");
const require = createRequire(import.meta.url);
const dotenv = require(path.resolve(dir));
const version = require(path.join(path.resolve(dir), "package.json")).version;
if (version !== "17.4.2") throw new Error(`dotenv ${version}, want 17.4.2 (the version OpenClaw 2026.9.6 uses)`);
const portable = /^[A-Za-z_][A-Za-z0-9_]*$/;

const inputs = [
  // plain values, blanks, export
  "A=1\nB = two \n",
  "export A=1\nexport\tB=2\n",
  "export=1\nexportX=2\nexport\nC=3\n",
  "  # c\n\n  # indented\nA=1 # trailing\nB=x#no-space\n",
  "A=\nB=''\nC=\"\"\nD=``\n",
  "A=1\nA=2\n",
  "\ufeffA=1\r\nB=2\r\nC=3\rD=4\n",
  // quotes
  "A='single \\n kept' # c\nB=\"double \\n and \\r expanded\"\nC=`back \"q\" 'q'`\n",
  "A=\"a b # c\"\nB='it''s'\n",
  "A=\"one\ntwo\"\nB=3\n",
  "A=\"with \\\"escaped\\\" quotes\"\nB='it\\'s'\n",
  "A=\"x\" trailing\nB='y' # comment\nC='z'   \n",
  "A=\"\\\\n\"\nB=\"\\\\\\\"\"\n",
  // unterminated quotes: a one-line literal, later lines kept
  "A='unterminated\nB=2\nC=3\n",
  "A=\"unterminated # not a comment\nB=2\n",
  "A=`x\nB=\"y\nC='z\nD=4\n",
  "A=\"x\\\"\nB=2\n",
  "A='x\\'\n\\'\nB=2\n",
  // odd separators and keys
  "A: colon\nB:nospace\nC :x\n",
  "KEY\n=value\nK2 = \n  v2\n",
  "A.B=1\nA-B=2\n1A=3\n_X=4\nx_y9=5\n__proto__=6\nconstructor=7\n",
  "A=1\nnot a pair\n1BAD=x\nC=\"unclosed\n",
  "A=\n'next line quoted'\nB=2\n",
  "A=  spaced value  \nB=\ttab\t\n",
  "A=\u00a0nbsp\u00a0\nB=\u2028ls\nC=x\u2028D=y\n",
  "A='x'\u2028B=2\n",
  "A=\"q\"\"r\"\nB='s''t'\n",
  "A='a\n'b'\nC=1\n",
  "A=\"a\n\"b\"\nC=1\n",
  "#A=1\n  export   B=2  # x\n\t\tC\t=\t3\n",
  "A=\"multi\nline with 'inner' and `ticks`\"\nB=after\n",
  "A='\\\\'\nB=1\n",
  "A=#x\nB= #y\nC=\"\" # z\n",
  "A=\"x\"y\"\nB=1\n",
  "===\n=A\nA==B\nB=C=D\n",
  "A=1 \\\nB=2\n",
  "A=é ü 世界\nB='日本'\n",
  "",
  "\n\n\n",
  "A",
  "A=",
  "A='",
  "A=\"\\",
];

const cases = inputs.map((input) => {
  const want = {};
  for (const [k, v] of Object.entries(dotenv.parse(Buffer.from(input, "utf8")))) {
    if (portable.test(k.trim())) want[k.trim()] = v;
  }
  return { in: input, want };
});
process.stdout.write(JSON.stringify({ dotenv: version, cases }, null, 1) + "\n");
