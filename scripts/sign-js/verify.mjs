#!/usr/bin/env node
// Verify eddsa-rdfc-2022 Data Integrity proofs on credentials (one JSON object
// per line) against a single Ed25519 public key, fully offline.
//
//   node verify.mjs --public-key-multibase z6Mk... [--vm VM_URL] IN.jsonl
//
// The proof's verificationMethod "<controller>#<fragment>" is resolved by the
// documentLoader to a Multikey document with the given public key, and
// <controller> to a controller document listing it under assertionMethod.
// With --vm, any other verificationMethod is refused.
import {parseArgs} from 'node:util';
import jsigs from 'jsonld-signatures';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022Cryptosuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {makeDocumentLoader, keyDocuments, readJsonl, die} from './lib.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

const USAGE = 'usage: node verify.mjs --public-key-multibase z6Mk... ' +
  '[--vm VERIFICATION_METHOD_URL] IN.jsonl';

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      'public-key-multibase': {type: 'string'},
      vm: {type: 'string'},
    },
  });
} catch(e) {
  die(`${e.message}\n${USAGE}`);
}
const {values: opts, positionals} = args;
const publicKeyMultibase = opts['public-key-multibase'];
if(!publicKeyMultibase || positionals.length !== 1) {
  die(USAGE);
}
try {
  // validates the multibase / multicodec header and key length
  await Ed25519Multikey.from({
    '@context': 'https://w3id.org/security/multikey/v1',
    type: 'Multikey', id: 'urn:check#k', controller: 'urn:check',
    publicKeyMultibase
  });
} catch(e) {
  die(`--public-key-multibase: ${e.message}`);
}

function errorMessages(result) {
  const msgs = [];
  const add = e => {
    if(!e) {
      return;
    }
    if(Array.isArray(e)) {
      e.forEach(add);
    } else if(Array.isArray(e.errors) && e.errors.length) {
      e.errors.forEach(add);
    } else {
      msgs.push(e.message || String(e));
    }
  };
  add(result.error);
  if(!msgs.length) {
    for(const r of result.results || []) {
      add(r.error);
    }
  }
  return [...new Set(msgs)].join('; ') || 'not verified';
}

function vmIds(doc) {
  const proofs = doc && doc.proof === undefined ? [] :
    [].concat(doc.proof);
  const ids = new Set();
  for(const p of proofs) {
    const vm = p && p.verificationMethod;
    const id = typeof vm === 'object' && vm !== null ? vm.id : vm;
    if(typeof id === 'string') {
      ids.add(id);
    }
  }
  return [...ids];
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022Cryptosuite});
const purpose = new AssertionProofPurpose();
const inputs = readJsonl(positionals[0]);

let ok = 0;
const failures = [];
const t0 = performance.now();
for(const {line, text} of inputs) {
  let error;
  try {
    const doc = JSON.parse(text);
    const documents = new Map();
    for(const vmId of vmIds(doc)) {
      if(opts.vm !== undefined && vmId !== opts.vm) {
        continue; // not served: loading it fails
      }
      for(const [k, v] of keyDocuments({vmId, publicKeyMultibase})) {
        documents.set(k, v);
      }
    }
    const documentLoader = makeDocumentLoader({documents});
    const result = await jsigs.verify(doc, {suite, purpose, documentLoader});
    if(result.verified) {
      ok++;
    } else {
      error = errorMessages(result);
    }
  } catch(e) {
    error = e.message;
  }
  if(error !== undefined) {
    failures.push(`line ${line}: ${error}`);
  }
}
const ms = performance.now() - t0;

for(const f of failures) {
  process.stderr.write(f + '\n');
}
const n = inputs.length;
process.stderr.write(`verified ${ok} in ${ms.toFixed(1)} ms` +
  (n ? ` (${(ms / n).toFixed(3)} ms/credential)` : '') +
  (failures.length ? `; ${failures.length} of ${n} FAILED` : '') + '\n');
process.exit(failures.length ? 1 : 0);
