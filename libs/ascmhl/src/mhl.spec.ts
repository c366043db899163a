import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c4IdOf } from './c4';
import { computeDirectoryHashes } from './directory-hash';
import { verifyAgainstHistory, nextGeneration } from './mhl-history';
import { parseChainXml, parseGenerationXml, readCardHistory } from './mhl-reader';
import { sealCardFolder } from './mhl-seal';
import { GenerationCreator, buildGeneration, writeGeneration } from './mhl-writer';
import { makeFakeCard, scanCard } from './testing/fake-card';
import { CHAIN_XSD, GENERATION_XSD, assertValidAgainstXsd, xmllint } from './testing/xmllint';

const CARD = 'EOS_R5_A001';
const creator = (at: string): GenerationCreator => ({ toolVersion: '0.1.0', hostname: 'nas-01', creationDate: new Date(at) });

describe('ASC MHL: seal a card, verify it, continue its history', () => {
  let tmp: string;
  let card: string;
  let given: string[];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sv-ascmhl-'));
    card = join(tmp, CARD);
    given = await makeFakeCard(card);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const ascmhl = () => join(card, 'ascmhl');
  const validateAll = async (): Promise<void> => {
    for (const name of await readdir(ascmhl())) {
      if (name.endsWith('.mhl')) assertValidAgainstXsd(GENERATION_XSD, join(ascmhl(), name));
    }
    assertValidAgainstXsd(CHAIN_XSD, join(ascmhl(), 'ascmhl_chain.xml'));
  };

  it('the xmllint check is real: it rejects a generation that breaks the XSD', async () => {
    const bad = join(tmp, 'bad.mhl');
    await writeFile(
      bad,
      '<?xml version="1.0" encoding="UTF-8"?>\n<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><processinfo><process>copy</process></processinfo></hashlist>\n',
    );
    expect(xmllint(GENERATION_XSD, bad).ok).toBe(false);
    expect(() => assertValidAgainstXsd(GENERATION_XSD, bad)).toThrow(/xmllint rejects/);
  });

  it('generation 1: a first seal after the ingest copy, valid against both XSDs', async () => {
    expect(given).toContain('PRIVATE/Cafe\u0301 notes.txt');
    const before = await readCardHistory(card);
    expect(before.generations).toHaveLength(0);
    expect(before.intact).toBe(true);

    const scan = await scanCard(card);
    const { check, written } = await sealCardFolder(card, { ...scan, creator: creator('2026-09-12T14:03:07.250Z') });
    expect(written.fileName).toBe('0001_EOS_R5_A001_2026-09-12_140307Z.mhl');
    expect(check.ignored).toEqual(['.DS_Store']); // Finder junk: the reference tool's default ignore patterns
    expect(check.counts).toEqual({ matched: 0, mismatched: 0, new: 5, missing: 0, 'not-comparable': 0 });
    expect(await readdir(ascmhl())).toEqual(['0001_EOS_R5_A001_2026-09-12_140307Z.mhl', 'ascmhl_chain.xml']); // no temp files left

    const output = assertValidAgainstXsd(GENERATION_XSD, written.generationPath);
    expect(output).toContain('validates');
    assertValidAgainstXsd(CHAIN_XSD, written.chainPath);

    const xml = await readFile(written.generationPath, 'utf8');
    expect(xml).toContain('<tool version="0.1.0">StudioVault</tool>');
    expect(xml).toContain('<process>transfer</process>');
    expect(xml).toContain('<path size="0"');
    expect(xml).toContain('>PRIVATE/Cafe\u0301 notes.txt</path>'); // the name exactly as on disk (NFD)
    expect(xml).not.toContain('.DS_Store</path>');
    expect(xml).toMatch(/<xxh64 action="original" hashdate="2026-09-12T14:03:07\+00:00">[0-9a-f]{16}<\/xxh64>/);
    expect(xml).toContain('<path lastmodificationdate=');

    const chain = parseChainXml(await readFile(written.chainPath));
    expect(chain).toEqual([{ sequenceNumber: 1, path: written.fileName, c4: c4IdOf(await readFile(written.generationPath)) }]);

    // The root and folder hashes in the file are the ASC rules applied to the files' hashes.
    const doc = parseGenerationXml(await readFile(written.generationPath));
    const sealed = scan.files.filter((f) => f.path !== '.DS_Store');
    const expected = computeDirectoryHashes(sealed, ['xxh64'], ['MISC']);
    expect(doc.process.rootHash?.content[0].value).toBe(expected.root.xxh64?.content);
    expect(doc.process.rootHash?.structure[0].value).toBe(expected.root.xxh64?.structure);
    expect(doc.directories.map((d) => d.path).sort()).toEqual([
      'DCIM',
      'DCIM/100CANON',
      'DCIM/100CANON/CLIPS',
      'DCIM/100CANON/CLIPS/NESTED',
      'MISC',
      'PRIVATE',
    ]);
    const misc = doc.directories.find((d) => d.path === 'MISC');
    expect(misc?.content[0].value).toBe('ef46db3751d8e999'); // empty folder: xxh64 of nothing
    expect(doc.files).toHaveLength(5);
    expect(doc.warnings).toEqual([]);
  });

  it('reads its own history back: one chained generation, every file with its xxh64', async () => {
    const history = await readCardHistory(card);
    expect(history.intact).toBe(true);
    expect(history.issues).toEqual([]);
    expect(history.generations.map((g) => [g.sequenceNumber, g.status])).toEqual([[1, 'chained']]);
    expect(history.nextSequenceNumber).toBe(2);
    expect(history.files.size).toBe(5);
    const nfc = history.files.get('PRIVATE/Caf\u00e9 notes.txt');
    expect(nfc?.path).toBe('PRIVATE/Cafe\u0301 notes.txt');
    expect(nfc?.hashes.xxh64?.action).toBe('original');
    expect(history.files.get('DCIM/EMPTY.DAT')?.hashes.xxh64?.value).toBe('ef46db3751d8e999');
  });

  it('generation 2: nothing changed, every file verified', async () => {
    const scan = await scanCard(card);
    const { check, written } = await sealCardFolder(card, { ...scan, creator: creator('2026-09-12T14:10:00Z') });
    expect(check.ok).toBe(true);
    expect(check.counts.matched).toBe(5);
    expect(written.fileName).toBe('0002_EOS_R5_A001_2026-09-12_141000Z.mhl');
    await validateAll();
    const xml = await readFile(written.generationPath, 'utf8');
    expect(xml).not.toContain('action="original"');
    expect(xml.match(/action="verified"/g)).toHaveLength(5);

    const history = await readCardHistory(card);
    expect(history.intact).toBe(true);
    expect(history.generations.map((g) => g.sequenceNumber)).toEqual([1, 2]);
    expect(history.files.get('DCIM/100CANON/IMG_0001.CR3')).toMatchObject({ firstSequenceNumber: 1, lastSequenceNumber: 2 });
    const chain = parseChainXml(await readFile(join(ascmhl(), 'ascmhl_chain.xml')));
    expect(chain.map((e) => e.sequenceNumber)).toEqual([1, 2]);
  });

  it('matches names across Unicode forms: the NFC spelling of the NFD file is the same file', async () => {
    const history = await readCardHistory(card);
    const scan = await scanCard(card);
    const nfcNames = scan.files.map((f) => ({ ...f, path: f.path.normalize('NFC') }));
    const check = verifyAgainstHistory(history, nfcNames);
    expect(check.ok).toBe(true);
  });

  it('a corrupted file is reported mismatched with both hashes, and generation 3 records it as failed', async () => {
    const path = join(card, 'DCIM/100CANON/IMG_0001.CR3');
    const bytes = await readFile(path);
    bytes[1000] ^= 0x01; // one flipped bit, same size
    await writeFile(path, bytes);

    const history = await readCardHistory(card);
    const scan = await scanCard(card);
    const check = verifyAgainstHistory(history, scan.files);
    expect(check.ok).toBe(false);
    expect(check.counts).toMatchObject({ matched: 4, mismatched: 1, new: 0, missing: 0 });
    expect(check.ignored).toEqual(['.DS_Store']);
    const bad = check.files.find((f) => f.status === 'mismatched');
    const now = scan.files.find((f) => f.path === 'DCIM/100CANON/IMG_0001.CR3')?.hashes.xxh64;
    const recorded = history.files.get('DCIM/100CANON/IMG_0001.CR3')?.hashes.xxh64?.value;
    expect(recorded).toMatch(/^[0-9a-f]{16}$/);
    expect(now).not.toBe(recorded);
    expect(bad).toMatchObject({
      path: 'DCIM/100CANON/IMG_0001.CR3',
      mismatches: [{ format: 'xxh64', expected: recorded, actual: now, sequenceNumber: 2 }],
    });

    const next = nextGeneration(history, { ...scan, creator: creator('2026-09-13T08:00:00Z') });
    expect(next.generation.sequenceNumber).toBe(3);
    const written = await writeGeneration(card, next.generation);
    await validateAll();
    const xml = await readFile(written.generationPath, 'utf8');
    expect(xml).toContain(`<xxh64 action="failed" hashdate="2026-09-13T08:00:00+00:00">${now}</xxh64>`);

    // The failure does not become the new truth: the file still mismatches the last good hash.
    const after = await readCardHistory(card);
    expect(after.files.get('DCIM/100CANON/IMG_0001.CR3')?.hashes.xxh64?.value).toBe(recorded);
    expect(after.files.get('DCIM/100CANON/IMG_0001.CR3')?.failures.map((f) => f.value)).toEqual([now]);
    expect(verifyAgainstHistory(after, scan.files).counts.mismatched).toBe(1);

    bytes[1000] ^= 0x01; // restored from the mirror copy
    await writeFile(path, bytes);
    expect(verifyAgainstHistory(after, (await scanCard(card)).files).ok).toBe(true);
  });

  it('reports missing and new files', async () => {
    const history = await readCardHistory(card);
    const scan = await scanCard(card);
    const files = scan.files.filter((f) => f.path !== 'DCIM/100CANON/IMG_0002.JPG');
    files.push({ path: 'DCIM/100CANON/IMG_0099.JPG', size: 3, hashes: { xxh64: '0123456789abcdef' } });
    const check = verifyAgainstHistory(history, files);
    expect(check.ok).toBe(false);
    expect(check.files.filter((f) => f.status !== 'matched').map((f) => [f.status, f.path])).toEqual([
      ['new', 'DCIM/100CANON/IMG_0099.JPG'],
      ['missing', 'DCIM/100CANON/IMG_0002.JPG'],
    ]);
    // A file hashed only in a format the history does not have cannot be verified.
    const md5Only = scan.files.map((f) => ({ path: f.path, size: f.size, hashes: { md5: 'd41d8cd98f00b204e9800998ecf8427e' } }));
    expect(verifyAgainstHistory(history, md5Only).counts['not-comparable']).toBe(5);
  });

  it('a tampered generation file is caught by the chain and its hashes are not trusted', async () => {
    const first = join(ascmhl(), '0001_EOS_R5_A001_2026-09-12_140307Z.mhl');
    const original = await readFile(first, 'utf8');
    await writeFile(first, original.replace('<hostname>nas-01</hostname>', '<hostname>nas-02</hostname>'));
    try {
      const history = await readCardHistory(card);
      expect(history.intact).toBe(false);
      expect(history.issues).toEqual([
        expect.objectContaining({
          kind: 'c4-mismatch',
          sequenceNumber: 1,
          fileName: '0001_EOS_R5_A001_2026-09-12_140307Z.mhl',
          expected: c4IdOf(original),
          actual: c4IdOf(await readFile(first)),
        }),
      ]);
      expect(history.generations.map((g) => g.sequenceNumber)).toEqual([2, 3]);
      const check = verifyAgainstHistory(history, (await scanCard(card)).files);
      expect(check.historyIntact).toBe(false);
      expect(check.ok).toBe(false);
      expect(check.counts.matched).toBe(5); // the files themselves are fine; the history is not
    } finally {
      await writeFile(first, original);
    }
    expect((await readCardHistory(card)).intact).toBe(true);
  });

  it('a generation missing from the chain, or a chain entry without its file, is reported', async () => {
    const chainPath = join(ascmhl(), 'ascmhl_chain.xml');
    const chainXml = await readFile(chainPath, 'utf8');
    const third = (await readdir(ascmhl())).find((n) => n.startsWith('0003_')) as string;
    const withoutThird = chainXml.replace(/ {2}<hashlist sequencenr="3">[\s\S]*?<\/hashlist>\n/, '');
    await writeFile(chainPath, withoutThird);
    let history = await readCardHistory(card);
    expect(history.issues.map((i) => [i.kind, i.sequenceNumber])).toEqual([['unchained-generation', 3]]);
    expect(history.generations.find((g) => g.sequenceNumber === 3)?.status).toBe('unchained');
    expect(history.nextSequenceNumber).toBe(4);

    await writeFile(chainPath, chainXml);
    const thirdBytes = await readFile(join(ascmhl(), third));
    await rm(join(ascmhl(), third));
    history = await readCardHistory(card);
    expect(history.issues.map((i) => [i.kind, i.sequenceNumber])).toEqual([['missing-generation', 3]]);
    await writeFile(join(ascmhl(), third), thirdBytes);
    expect((await readCardHistory(card)).intact).toBe(true);
  });

  it('refuses to add to a history that changed since it was read, to replace a generation, or to lose an unreadable chain', async () => {
    const history = await readCardHistory(card);
    const scan = await scanCard(card);
    const next = nextGeneration(history, { ...scan, creator: creator('2026-09-14T08:00:00Z') });
    await expect(writeGeneration(card, { ...next.generation, sequenceNumber: 2 })).rejects.toMatchObject({ code: 'stale-history' });
    await expect(writeGeneration(join(tmp, 'no-such-card'), next.generation)).rejects.toMatchObject({ code: 'invalid-input' });

    const chainPath = join(ascmhl(), 'ascmhl_chain.xml');
    const chainXml = await readFile(chainPath, 'utf8');
    await writeFile(chainPath, chainXml.slice(0, 100));
    try {
      await expect(writeGeneration(card, next.generation)).rejects.toMatchObject({ code: 'unreadable-chain' });
      const broken = await readCardHistory(card);
      expect(broken.issues.map((i) => i.kind)).toContain('unreadable-chain');
    } finally {
      await writeFile(chainPath, chainXml);
    }

    // The same number and second again would be the same file name: never overwritten.
    const { writeFileDurably } = await import('./durable-fs');
    const existing = join(ascmhl(), (await readdir(ascmhl())).find((n) => n.startsWith('0001_')) as string);
    await expect(writeFileDurably(existing, 'x', { noClobber: true })).rejects.toMatchObject({ code: 'generation-exists' });
    expect((await readdir(ascmhl())).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await readCardHistory(card)).intact).toBe(true);
  });

  it('builds generations with several formats, authors and per-format actions, still valid', async () => {
    const built = buildGeneration({
      sequenceNumber: 7,
      cardFolderName: 'multi',
      creator: {
        ...creator('2026-01-02T03:04:05Z'),
        authors: [{ name: 'Ed <Editor> & Co', email: 'ed@studio.example', role: 'editor' }],
        location: 'Studio A',
        comment: 'ingest "wedding"',
      },
      process: 'in-place',
      ignorePatterns: ['*.tmp'],
      files: [
        {
          path: 'a & b/<x>.mov',
          size: 3,
          hashes: { xxh64: 'AAAAAAAAAAAAAAAA', md5: 'd41d8cd98f00b204e9800998ecf8427e', c4: c4IdOf('abc') },
          action: { xxh64: 'verified', md5: 'original', c4: 'original' },
          previousPath: 'old/<x>.mov',
        },
        { path: 'junk.tmp', size: 1, hashes: { xxh64: '0000000000000000' }, action: 'original' },
      ],
    });
    expect(built.fileName).toBe('0007_multi_2026-01-02_030405Z.mhl');
    expect(built.ignoredPaths).toEqual(['junk.tmp']);
    const file = join(tmp, built.fileName);
    await writeFile(file, built.bytes);
    assertValidAgainstXsd(GENERATION_XSD, file);
    const doc = parseGenerationXml(built.bytes);
    expect(doc.files[0]).toMatchObject({ path: 'a & b/<x>.mov', previousPath: 'old/<x>.mov' });
    expect(doc.files[0].hashes.map((h) => [h.format, h.action])).toEqual([
      ['c4', 'original'],
      ['md5', 'original'],
      ['xxh64', 'verified'],
    ]);
    expect(doc.files[0].hashes[2].value).toBe('aaaaaaaaaaaaaaaa');
    expect(doc.creator).toMatchObject({
      authors: [{ name: 'Ed <Editor> & Co', email: 'ed@studio.example', role: 'editor' }],
      location: 'Studio A',
    });
    expect(doc.process.rootHash?.content.map((h) => h.format)).toEqual(['c4', 'md5', 'xxh64']);
  });

  it('refuses bad input with a clear error', () => {
    const base = { sequenceNumber: 1, cardFolderName: 'c', creator: creator('2026-01-01T00:00:00Z') };
    const file = { size: 1, hashes: { xxh64: '0000000000000000' }, action: 'original' as const };
    expect(() => buildGeneration({ ...base, files: [{ ...file, path: '../etc/passwd' }] })).toThrow(/must not contain ".."/);
    expect(() => buildGeneration({ ...base, files: [{ ...file, path: '/abs' }] })).toThrow(/absolute/);
    expect(() => buildGeneration({ ...base, files: [{ ...file, path: 'a\u0000b' }] })).toThrow(/NUL/);
    expect(() => buildGeneration({ ...base, files: [{ ...file, path: 'x', hashes: { xxh64: 'nothex' } }] })).toThrow(/xxh64/);
    expect(() => buildGeneration({ ...base, files: [{ ...file, path: 'x', hashes: {} }] })).toThrow(/no hash/);
    expect(() => buildGeneration({ ...base, files: [{ ...file, path: 'x', size: -1 }] })).toThrow(/size/);
    expect(() =>
      buildGeneration({
        ...base,
        files: [
          { ...file, path: 'Caf\u00e9' },
          { ...file, path: 'Cafe\u0301' },
        ],
      }),
    ).toThrow(/same path/);
    expect(() => buildGeneration({ ...base, files: [{ ...file, path: 'x', action: { md5: 'original' } }] })).toThrow(/no valid action/);
    expect(() => buildGeneration({ ...base, cardFolderName: 'a/b', files: [] })).toThrow(/card folder name/);
    expect(() => buildGeneration({ ...base, creator: { ...base.creator, creationDate: new Date('x') }, files: [] })).toThrow(
      /not a valid date/,
    );
    expect(() => buildGeneration({ ...base, creator: { ...base.creator, authors: [{ name: 'a', email: 'nope' }] }, files: [] })).toThrow(
      /e-mail/,
    );
  });
});
