import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { crc32, tableCrc32, zipSync, type ZipEntry } from '../../lib/gcp/zip';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-zip-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

// Info-ZIP's unzip is the independent reader: it checks every CRC and size against the data.
function writeZip(entries: ZipEntry[]): string {
  const file = path.join(fs.mkdtempSync(path.join(scratch, 'zip-')), 'test.zip');
  fs.writeFileSync(file, zipSync(entries));
  return file;
}

const compressible = Buffer.from('export const handler = () => "hello";\n'.repeat(200));
const incompressible = randomBytes(4096);
const entries: ZipEntry[] = [
  { name: 'index.js', data: compressible },
  { name: 'lib/blob.bin', data: incompressible },
  { name: 'empty.txt', data: new Uint8Array(0) },
  { name: 'données/é.json', data: Buffer.from('{"ü":1}') },
];

test('unzip -t finds no error, and every entry extracts to its bytes', () => {
  const file = writeZip(entries);
  expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
  const out = fs.mkdtempSync(path.join(scratch, 'unzip-'));
  execFileSync('unzip', ['-q', file, '-d', out]);
  for (const entry of entries) expect(fs.readFileSync(path.join(out, entry.name))).toEqual(Buffer.from(entry.data));
});

test('entries sorted, fixed 1980 timestamps, rw-r--r-- Unix files, deflate unless it does not shrink', () => {
  const listing = execFileSync('unzip', ['-Z', '-s', writeZip(entries)], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('-'));
  expect(listing.map((l) => l.split(/\s+/).slice(-1)[0])).toEqual(['données/é.json', 'empty.txt', 'index.js', 'lib/blob.bin']);
  for (const line of listing) expect(line).toMatch(/^-rw-r--r-- {2}2\.0 unx .* 80-Jan-01 00:00 /);
  const method = (name: string) => listing.find((l) => l.endsWith(` ${name}`))!.split(/\s+/)[5];
  expect(method('index.js')).toBe('defN');
  expect(method('lib/blob.bin')).toBe('stor');
  expect(method('empty.txt')).toBe('stor');
});

test('byte-identical for the same entries, whatever their order, and sensitive to every byte', () => {
  const a = zipSync(entries);
  expect(zipSync([...entries].reverse())).toEqual(a);
  const changed = Buffer.from(compressible);
  changed[100] ^= 1;
  expect(zipSync([{ ...entries[0], data: changed }, ...entries.slice(1)])).not.toEqual(a);
});

test.each([
  ['../escape.js', /must be a relative/],
  ['/etc/passwd', /must be a relative/],
  ['a\\b.js', /must be a relative/],
  ['a//b.js', /must be a relative/],
  ['./a.js', /must be a relative/],
  ['', /must be a relative/],
])('refuses the entry name %j', (name, error) => {
  expect(() => zipSync([{ name, data: Buffer.from('x') }])).toThrow(error);
});

test('refuses a name given twice', () => {
  expect(() => zipSync([{ name: 'a.js', data: Buffer.from('1') }, { name: 'a.js', data: Buffer.from('2') }])).toThrow(/'a\.js' given twice/);
});

test('refuses what a zip without zip64 cannot hold', () => {
  expect(() => zipSync([{ name: 'a'.repeat(65_536), data: Buffer.from('x') }])).toThrow(/longer than 65535 bytes/);
  expect(() => zipSync(Array.from({ length: 65_536 }, (_, i) => ({ name: `f${i}`, data: new Uint8Array(0) })))).toThrow(/65536 entries; at most 65535/);
});

test('the JavaScript CRC-32 (Node < 20.15) agrees with node:zlib and the standard check value', () => {
  expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  expect(tableCrc32(new Uint8Array(0))).toBe(0);
  for (const data of [compressible, incompressible, randomBytes(100_000)]) expect(tableCrc32(data)).toBe(zlib.crc32(data));
  expect(crc32(incompressible)).toBe(zlib.crc32(incompressible));
});
