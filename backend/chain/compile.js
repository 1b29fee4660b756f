// Compiles contracts/TestUsdc.sol with the pinned solc (package.json) and prints the artifact as JSON:
// {contract, compiler, evm_version, optimizer_runs, abi, bytecode}. `node compile.js > ../src/main/resources/chain/TestUsdc.json`
// regenerates the checked-in artifact; the backend test ChainArtifactTest recompiles and compares.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const source = fs.readFileSync(path.join(__dirname, "contracts", "TestUsdc.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: {"TestUsdc.sol": {content: source}},
  settings: {
    evmVersion: "paris",
    optimizer: {enabled: true, runs: 200},
    metadata: {bytecodeHash: "none"},
    outputSelection: {"*": {"*": ["abi", "evm.bytecode.object"]}}
  }
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
const c = out.contracts["TestUsdc.sol"].TestUsdc;
process.stdout.write(JSON.stringify({
  contract: "TestUsdc",
  compiler: "solc-js " + solc.version(),
  evm_version: "paris",
  optimizer_runs: 200,
  abi: c.abi,
  bytecode: "0x" + c.evm.bytecode.object
}, null, 1) + "\n");
