#!/usr/bin/env node
// Sign Open Badges 3.0 credentials (one JSON object per line) with the
// eddsa-rdfc-2022 Data Integrity cryptosuite (Digital Bazaar libraries).
//
//   node sign.mjs --seed HEX32 --vm VM_URL [--created DATETIME | --no-created]
//                 IN.jsonl OUT.jsonl
import {writeFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import jsigs from 'jsonld-signatures';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022Cryptosuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {makeDocumentLoader, readJsonl, hexToBytes, die} from './lib.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

const USAGE = 'usage: node sign.mjs --seed HEX32 --vm VERIFICATION_METHOD_URL ' +
  '[--created 2010-01-01T19:23:24Z | --no-created] IN.jsonl OUT.jsonl';

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      seed: {type: 'string'},
      vm: {type: 'string'},
      created: {type: 'string'},
      'no-created': {type: 'boolean'},
    },
  });
} catch(e) {
  die(`${e.message}\n${USAGE}`);
}
const {values: opts, positionals} = args;
if(!opts.seed || !opts.vm || positionals.length !== 2) {
  die(USAGE);
}
const [inFile, outFile] = positionals;

let seed;
try {
  seed = hexToBytes(opts.seed);
} catch(e) {
  die(`--seed: ${e.message}`);
}
if(seed.length !== 32) {
  die(`--seed must be 32 bytes (64 hex digits), got ${seed.length} bytes`);
}
const vmId = opts.vm;
const hash = vmId.indexOf('#');
if(hash <= 0) {
  die('--vm must look like <controller>#<fragment>');
}
const controller = vmId.slice(0, hash);

const keyPair = await Ed25519Multikey.generate({seed, id: vmId, controller});
process.stderr.write(`key ${keyPair.publicKeyMultibase}\n`);
if(!vmId.endsWith('#' + keyPair.publicKeyMultibase)) {
  process.stderr.write(
    'warning: --vm fragment is not the public key multibase of --seed\n');
}

// `created`: DataIntegrityProof's `date` option is re-formatted by the library
// (toISOString() with the milliseconds cut off). To write the given string
// byte-for-byte, pass it as a proof template instead (suite.proof, which
// createProof() copies) and set date: null so no default "now" is added.
let created = opts.created;
if(opts['no-created'] && created !== undefined) {
  die('--created and --no-created are exclusive');
}
if(created === undefined && !opts['no-created']) {
  created = new Date().toISOString().slice(0, -5) + 'Z';
}
if(created !== undefined && isNaN(new Date(created))) {
  die(`--created "${created}" is not a date`);
}

function makeSuite() {
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), date: null, cryptosuite: eddsaRdfc2022Cryptosuite
  });
  if(created !== undefined) {
    // `type` first only so the JSON key order matches the 1EdTech vector.
    suite.proof = {type: 'DataIntegrityProof', created};
  }
  return suite;
}

const documentLoader = makeDocumentLoader();
const purpose = new AssertionProofPurpose();

const inputs = readJsonl(inFile).map(({line, text}) => {
  try {
    return {line, doc: JSON.parse(text)};
  } catch(e) {
    die(`line ${line}: invalid JSON: ${e.message}`);
  }
});

const out = [];
const t0 = performance.now();
for(const {line, doc} of inputs) {
  try {
    // A fresh suite per credential (the suite caches the last document hash).
    out.push(JSON.stringify(await jsigs.sign(doc, {
      suite: makeSuite(), purpose, documentLoader
    })));
  } catch(e) {
    die(`line ${line}: ${e.message}`);
  }
}
const ms = performance.now() - t0;

writeFileSync(outFile, out.length ? out.join('\n') + '\n' : '');
process.stderr.write(`signed ${out.length} in ${ms.toFixed(1)} ms` +
  (out.length ? ` (${(ms / out.length).toFixed(3)} ms/credential)` : '') +
  '\n');
