import * as zlib from 'node:zlib';

/** One file in a {@link zipSync} archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, relative (e.g. `index.js`, `lib/util.js`). */
  readonly name: string;
  readonly data: Uint8Array;
}

// Every field that is not content is pinned, so the archive bytes are a function of the entries:
// 1980-01-01 00:00 (the earliest DOS date), Unix regular file rw-r--r--, UTF-8 names.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const UNIX_FILE_MODE = 0o100644;
const VERSION = 20; // 2.0: deflate, no zip64
const MADE_BY_UNIX = (3 << 8) | VERSION; // host 3 (Unix): unzip applies the mode in the external attributes
const FLAG_UTF8 = 1 << 11;
const STORED = 0;
const DEFLATED = 8;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff; // exclusive: 0xFFFFFFFF means "see zip64", which this writer never emits

/**
 * A standard zip archive of `entries`, in memory, deterministic: entries sorted by name, fixed
 * timestamps and permissions, raw deflate (or stored when deflate does not shrink a file). No
 * zip64: archives up to 4 GiB and 65,535 entries, far beyond a Cloud Functions source
 * (100 MB compressed at most).
 */
export function zipSync(entries: readonly ZipEntry[]): Buffer {
  if (entries.length > MAX_U16) throw new Error(`zip: ${entries.length} entries; at most ${MAX_U16} without zip64`);
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [i, entry] of sorted.entries()) {
    checkName(entry.name);
    if (i > 0 && sorted[i - 1].name === entry.name) throw new Error(`zip: entry '${entry.name}' given twice`);
    const name = Buffer.from(entry.name, 'utf8');
    if (name.length > MAX_U16) throw new Error(`zip: entry name '${entry.name.slice(0, 80)}...' is longer than ${MAX_U16} bytes`);
    const deflated = zlib.deflateRawSync(entry.data, { level: zlib.constants.Z_BEST_COMPRESSION });
    const method = deflated.length < entry.data.length ? DEFLATED : STORED;
    const body = method === DEFLATED ? deflated : entry.data;
    const crc = crc32(entry.data);
    if (entry.data.length >= MAX_U32 || offset + 30 + name.length + body.length >= MAX_U32) {
      throw new Error(`zip: '${entry.name}' does not fit a zip without zip64 (4 GiB)`);
    }

    const fields = { method, crc, compressedSize: body.length, size: entry.data.length, nameLength: name.length };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(local, 4, fields);
    // extra field length 0 (alloc)
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    writeEntryFields(central, 6, fields);
    // extra field length, comment length, disk number, internal attributes: all 0 (alloc)
    central.writeUInt32LE((UNIX_FILE_MODE << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += 30 + name.length + body.length;
  }

  const centralSize = centrals.reduce((n, b) => n + b.byteLength, 0);
  if (offset + centralSize >= MAX_U32) throw new Error('zip: archive does not fit a zip without zip64 (4 GiB)');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  // this disk and the central directory's disk: 0 (alloc)
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  // comment length 0 (alloc)
  return Buffer.concat([...locals, ...centrals, end]);
}

interface EntryFields {
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly nameLength: number;
}

// The run of fields the local header and the central directory header share, in the same order
// (version needed to extract ... file name length).
function writeEntryFields(header: Buffer, at: number, fields: EntryFields): void {
  header.writeUInt16LE(VERSION, at);
  header.writeUInt16LE(FLAG_UTF8, at + 2);
  header.writeUInt16LE(fields.method, at + 4);
  header.writeUInt16LE(DOS_TIME, at + 6);
  header.writeUInt16LE(DOS_DATE, at + 8);
  header.writeUInt32LE(fields.crc, at + 10);
  header.writeUInt32LE(fields.compressedSize, at + 14);
  header.writeUInt32LE(fields.size, at + 18);
  header.writeUInt16LE(fields.nameLength, at + 22);
}

// Names an extractor would place outside its target directory, or read differently per platform.
function checkName(name: string): void {
  const segments = name.split('/');
  if (name === '' || name.includes('\\') || name.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`zip: entry name '${name}' must be a relative '/'-separated file path without empty, '.' or '..' segments`);
  }
}

/** CRC-32 (IEEE 802.3, as zip uses): node:zlib's from Node 20.15, else a table-driven fallback. */
export const crc32: (data: Uint8Array) => number = typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : tableCrc32;

let table: Uint32Array | undefined;

/** CRC-32 computed in JavaScript, for Node.js releases whose node:zlib lacks `crc32`. Exported for its test. */
export function tableCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
