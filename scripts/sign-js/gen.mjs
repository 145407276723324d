#!/usr/bin/env node
// Generate N distinct, realistic unsigned Open Badges 3.0 credentials shaped
// like 1EdTech's eddsa-rdfc-2022 test vector, one JSON object per line.
//
//   node gen.mjs [--seed INT] [--issuer URL] N OUT.jsonl
//
// Deterministic for a given --seed (default 1). Every credential has its own
// id, name, subject id, achievement (id, name, description, criteria) and
// validFrom. Some strings contain non-ASCII characters, quotes and newlines so
// that canonicalization escaping is exercised.
import {writeFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {die} from './lib.mjs';

const USAGE = 'usage: node gen.mjs [--seed INT] [--issuer URL] N OUT.jsonl';
let args;
try {
  args = parseArgs({allowPositionals: true, options: {
    seed: {type: 'string', default: '1'},
    issuer: {type: 'string', default: 'https://example.edu/issuers/565049'},
  }});
} catch(e) {
  die(`${e.message}\n${USAGE}`);
}
const {values: opts, positionals} = args;
if(positionals.length !== 2 || !/^\d+$/.test(positionals[0])) {
  die(USAGE);
}
const n = Number(positionals[0]);
const outFile = positionals[1];

// mulberry32
let state = Number(opts.seed) >>> 0;
function rand() {
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = a => a[Math.floor(rand() * a.length)];
const hex = len => Array.from({length: len},
  () => Math.floor(rand() * 16).toString(16)).join('');
function uuid() {
  const h = hex(32).split('');
  h[12] = '4';
  h[16] = '89ab'[Math.floor(rand() * 4)];
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-` +
    `${s.slice(16, 20)}-${s.slice(20)}`;
}
const slug = s => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '')
  .toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

const categories = {
  '21st-century-skills': ['Teamwork', 'Critical Thinking', 'Communication',
    'Creativity', 'Leadership', 'Problem Solving', 'Digital Literacy',
    'Intercultural Competence'],
  'computing': ['Python Programming', 'Data Analysis', 'Web Accessibility',
    'Cloud Fundamentals', 'Cybersecurity Basics', 'Machine Learning',
    'Rust Systems Programming', 'Database Design'],
  'languages': ['Español B2', 'Français A2', 'Deutsch C1', 'Italiano B1',
    'Português B2', '日本語 N3'],
  'health-and-safety': ['First Aid', 'Workplace Safety', 'Food Hygiene',
    'Mental Health Awareness'],
  'professional': ['Project Management', 'Customer Service',
    'Financial Literacy', 'Public Speaking', 'Negotiation'],
};
const levels = ['Foundation', 'Intermediate', 'Advanced', 'Expert',
  'Practitioner'];
const places = ['Zürich', 'São Paulo', 'Kraków', 'Montréal', 'Reykjavík',
  'Dublin', 'Nairobi', 'Austin', 'Melbourne', 'Toronto'];
const verbs = ['demonstrated', 'applied', 'evidenced', 'sustained'];
const catNames = Object.keys(categories);
const issuerNames = ['Example Corp', 'Example University',
  'Example Community College', 'Example Training Institute'];

const T0 = Date.UTC(2015, 0, 1);
const lines = [];
const seen = new Set();
for(let i = 0; i < n; i++) {
  const category = pick(catNames);
  const skill = pick(categories[category]);
  const level = pick(levels);
  const place = pick(places);
  const cohort = 1000 + i;
  const achievementName = `${skill} — ${level}`;
  // one validFrom slot of 7 hours per credential => all distinct
  const validFrom = new Date(T0 + i * 7 * 3600e3 +
    Math.floor(rand() * 3600) * 1e3).toISOString().slice(0, -5) + 'Z';
  let narrative = `Learners are nominated for the ${skill} (${level}) badge ` +
    `by their peers and recognized upon review by the ${place} cohort ` +
    `${cohort} assessment panel.`;
  if(rand() < 0.3) {
    narrative += `\n\n1. Complete the "${skill}" module.\n2. Submit evidence` +
      ` of ${pick(verbs)} practice.`;
  }
  const cred = {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'
    ],
    id: `urn:uuid:${uuid()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {
      id: opts.issuer,
      type: ['Profile'],
      url: 'https://www.imsglobal.org',
      name: pick(issuerNames)
    },
    validFrom,
    name: `${skill} Badge — ${level}, ${place} cohort ${cohort}`,
    credentialSubject: {
      id: `did:example:${hex(21)}`,
      type: ['AchievementSubject'],
      achievement: {
        id: `https://example.com/achievements/${category}/` +
          `${slug(skill) || 'skill'}-${slug(level)}/${cohort}`,
        type: ['Achievement'],
        criteria: {narrative},
        description: `This badge recognizes ${pick(verbs)} ` +
          `${level.toLowerCase()}-level capability in ${skill} within a ` +
          `group environment (${place}).`,
        name: achievementName
      }
    }
  };
  const key = cred.id + '|' + cred.credentialSubject.id;
  if(seen.has(key)) {
    i--;
    continue;
  }
  seen.add(key);
  lines.push(JSON.stringify(cred));
}
writeFileSync(outFile, lines.length ? lines.join('\n') + '\n' : '');
process.stderr.write(`wrote ${lines.length} credentials to ${outFile}\n`);
