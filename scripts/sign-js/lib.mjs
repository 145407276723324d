// Shared pieces for sign.mjs / verify.mjs: an offline documentLoader and
// small helpers. The loader serves ONLY the local context files in
// ../../assets/contexts/ plus, when asked, verification method / controller
// documents built in memory; any other URL throws.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const contextsDir = path.resolve(here, '../../assets/contexts');

export const CONTEXT_FILES = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json':
    'ob-context-3.0.3.json',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
};

export const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1';
// A controller document whose @context is (or starts with) the DID v1 URL is
// used as-is by jsonld-signatures' ControllerProofPurpose (no JSON-LD framing),
// so that context is never dereferenced and need not be served.
export const DID_CONTEXT = 'https://www.w3.org/ns/did/v1';

const contexts = new Map();
for(const [url, file] of Object.entries(CONTEXT_FILES)) {
  contexts.set(url, JSON.parse(
    readFileSync(path.join(contextsDir, file), 'utf8')));
}

/**
 * Builds a documentLoader.
 *
 * @param {object} [options]
 * @param {Map<string, object>} [options.documents] - extra URL -> document
 *   (verification methods, controller documents).
 * @returns {Function} async url => {contextUrl, documentUrl, document, tag}.
 */
export function makeDocumentLoader({documents} = {}) {
  return async url => {
    const ctx = contexts.get(url);
    if(ctx !== undefined) {
      // tag 'static' lets jsonld.js keep the processed context in its shared
      // LRU cache across operations (what Digital Bazaar's own loaders do).
      return {contextUrl: null, documentUrl: url, document: ctx, tag: 'static'};
    }
    const doc = documents && documents.get(url);
    if(doc !== undefined) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    throw new Error(`documentLoader: refusing to load "${url}" (offline)`);
  };
}

/**
 * Documents needed to verify a proof made by `vmId` (assertionMethod):
 * the Multikey verification method and its controller document.
 */
export function keyDocuments({vmId, publicKeyMultibase}) {
  const hash = vmId.indexOf('#');
  if(hash <= 0) {
    throw new Error(
      `verificationMethod "${vmId}" must be "<controller>#<fragment>"`);
  }
  const controller = vmId.slice(0, hash);
  const vm = {
    '@context': MULTIKEY_CONTEXT,
    id: vmId,
    type: 'Multikey',
    controller,
    publicKeyMultibase,
  };
  const controllerDoc = {
    '@context': [DID_CONTEXT, MULTIKEY_CONTEXT],
    id: controller,
    verificationMethod: [vm],
    assertionMethod: [vmId],
  };
  return new Map([[vmId, vm], [controller, controllerDoc]]);
}

export function readJsonl(file) {
  const out = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if(text.trim() !== '') {
      out.push({line: i + 1, text});
    }
  });
  return out;
}

export function hexToBytes(hex) {
  if(!/^([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new Error('not a hex string');
  }
  return Uint8Array.from(hex.match(/../g) || [], b => parseInt(b, 16));
}

export function die(msg) {
  process.stderr.write(msg + '\n');
  process.exit(2);
}
